#include "daemon/startup.h"

#include <filesystem>
#include <iostream>

#include "certctl/log/logging.h"
#include "certctl/ops/audit_ops.h"
#include "certctl/ops/ca_rotate.h"
#include "certctl/ops/db_ops.h"
#include "certctl/ops/issuer_ops.h"
#include "certctl/ops/key_files.h"
#include "certctl/ops/op.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"

namespace certctl::daemon {

namespace {

// Dev mode: one certctld per data directory. Its pid file is locked before
// the cluster is looked at, so a second `certctld --dev` refuses without
// starting, stopping or migrating anything.
Result<std::unique_ptr<PidFile>> LockDevDataDir(const std::string& data_dir) {
  // 0711, as PrepareDevEnvironment makes it: the PostgreSQL account must
  // pass through to pg/ when run as root.
  RETURN_IF_ERROR(EnsureDirectory(std::filesystem::absolute(data_dir), 0711));
  return PidFile::Create(ops::DevPidFilePath(data_dir));
}

// The dev data directory (see DaemonOptions), and a note on how it was found.
std::string DevDataDir(const DaemonOptions& options, std::vector<std::string>& notes) {
  auto search = ops::FindDevDataDir(options.data_dir, options.dev_dir_env, options.cwd);
  if (search.found) {
    notes.push_back("data directory " + *search.found + " (" + search.how + ")");
    return *search.found;
  }
  std::string fresh = search.from + "/" + ops::kDevDataDirName;
  notes.push_back("no " + std::string(ops::kDevDataDirName) + " in " + search.from +
                  " or any directory above it: starting a new one in " + fresh);
  return fresh;
}

// config.pid_file, unless it is the file dev mode already holds.
Status TakePidFile(Runtime& rt) {
  namespace fs = std::filesystem;
  const std::string& path = rt.config.pid_file;
  if (path.empty()) return Status::Ok();
  if (rt.dev_lock && fs::absolute(path).lexically_normal() ==
                         fs::path(rt.dev_lock->path()).lexically_normal()) {
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(rt.pid_file, PidFile::Create(path));
  return Status::Ok();
}

// A process killed while writing a key leaves its temporary file behind;
// failing to clean up is worth a warning, not a refusal to serve.
void RemoveInterruptedKeyWrites(ops::OpContext& ctx, spdlog::logger& logger) {
  auto swept = ops::RemoveInterruptedKeyWrites(ctx, kLocalIssuerId);
  if (!swept.ok()) {
    logger.warn("temporary files of interrupted key writes were not cleaned up: {}",
                swept.status().ToString());
    return;
  }
  for (const auto& file : *swept) {
    logger.warn("removed {}, left behind by an interrupted key write", file);
  }
}

}  // namespace

Runtime::~Runtime() {
  db.reset();
  if (dev) {
    Status s = dev->StopClusterIfStarted();
    if (!s.ok() && logger)
      logger->warn("stopping the dev PostgreSQL cluster: {}", s.ToString());
  }
}

Result<std::unique_ptr<Runtime>> StartUp(const DaemonOptions& options) {
  auto rt = std::make_unique<Runtime>();
  ConfigLoadOptions load;
  load.path = options.config_path;
  load.path_is_explicit = options.config_explicit;
  std::vector<std::string> dev_notes;
  if (options.dev) {
    std::string data_dir = DevDataDir(options, dev_notes);
    ASSIGN_OR_RETURN(rt->dev_lock, LockDevDataDir(data_dir));
    ASSIGN_OR_RETURN(ops::DevEnvironment env, ops::PrepareDevEnvironment(data_dir));
    env.notes.insert(env.notes.begin(), dev_notes.begin(), dev_notes.end());
    rt->dev = std::move(env);
    if (!options.config_explicit) {
      load.path = rt->dev->config_path;
      load.path_is_explicit = true;
    }
  }
  ASSIGN_OR_RETURN(rt->config, LoadConfig(load));
  rt->config.dev = options.dev;
  if (options.dev) rt->config.data_dir = rt->dev->data_dir;
  RETURN_IF_ERROR(TakePidFile(*rt));

  std::string format =
      options.log_format.empty() ? rt->config.log_format : options.log_format;
  std::string level =
      options.log_level.empty() ? rt->config.log_level : options.log_level;
  auto log_format = ParseLogFormat(format);
  if (!log_format.ok()) return Status::Configuration(log_format.status().message());
  auto logger = MakeLogger("certctld", *log_format, level);
  if (!logger.ok()) return Status::Configuration(logger.status().message());
  rt->logger = *logger;
  if (rt->dev) {
    for (const auto& note : rt->dev->notes) rt->logger->info("dev mode: {}", note);
  }

  RETURN_IF_ERROR(ops::RequireConfiguredCaFiles(rt->config));
  ASSIGN_OR_RETURN(rt->db,
                   Database::Open({.url = std::string(rt->config.database_url.view()),
                                   .pool_size = rt->config.database_pool_size,
                                   .application_name = "certctld"}));
  RETURN_IF_ERROR(ops::RequireCurrentSchema(*rt->db));
  rt->logger->info("database {} is at the current schema", rt->db->MaskedUrl());

  rt->keyring = std::make_unique<ops::CaKeyring>();
  ops::OpContext ctx{*rt->db,      rt->config,
                     *rt->clock,   rt->logger,
                     *rt->keyring, ops::Actor{"certctld", HostName(), "certctld", ""}};
  // Every change certctld makes is audited: refuse to start without the
  // log's key rather than fail at the first revocation.
  RETURN_IF_ERROR(ops::CheckAuditSetup(ctx));
  ops::OpReport report;
  ASSIGN_OR_RETURN(ops::CaRegistered ca,
                   ops::RegisterConfiguredCa(ctx, kLocalIssuerId, rt->config.ca_cert_path,
                                             rt->config.ca_key_path, report));
  rt->logger->info("issuer {}: the active CA generation is {} ({}), key {}{}",
                   kLocalIssuerId, ca.generation, ca.active_subject, ca.active_key_path,
                   ca.registered ? " (registered now)" : "");
  if (ca.configured_generation != ca.generation) {
    rt->logger->info(
        "issuer {}: the configured CA files ({}) are the retired generation {}; the "
        "database names each generation's key file, so this configuration keeps "
        "working",
        kLocalIssuerId, rt->config.ca_cert_path, ca.configured_generation);
  }
  for (const auto& f : report.findings) rt->logger->warn("{}", f.message);
  auto rotation = ops::FindUnfinishedCaRotation(ctx, kLocalIssuerId);
  if (rotation.ok() && *rotation) {
    rt->logger->warn("issuer {}: CA rotation {} (generation {} -> {}) is unfinished: {}",
                     kLocalIssuerId, (*rotation)->id, (*rotation)->from_generation,
                     (*rotation)->to_generation, (*rotation)->next);
  }
  RemoveInterruptedKeyWrites(ctx, *rt->logger);
  return rt;
}

}  // namespace certctl::daemon
