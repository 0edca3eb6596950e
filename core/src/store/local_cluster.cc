#include "store/local_cluster.h"

#include <unistd.h>

#include <filesystem>
#include <pqxx/pqxx>

#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "store/pg.h"

namespace certctl {
namespace fs = std::filesystem;

Result<std::string> FindPostgresBinDir() {
  if (const char* env = std::getenv("CERTCTL_PG_BIN_DIR"); env && *env) {
    if (fs::exists(fs::path(env) / "initdb")) return std::string(env);
    return Status::NotFound(std::string("CERTCTL_PG_BIN_DIR=") + env + " has no initdb");
  }
  std::error_code ec;
  int best = -1;
  std::string best_dir;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    int version = std::atoi(entry.path().filename().c_str());
    fs::path bin = entry.path() / "bin";
    if (version > best && fs::exists(bin / "initdb") && fs::exists(bin / "pg_ctl")) {
      best = version;
      best_dir = bin.string();
    }
  }
  if (best >= 0) return best_dir;
  auto r = RunProcess({"pg_config", "--bindir"});
  if (r.ok() && r->exit_code == 0) {
    std::string dir = r->output;
    while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
    if (fs::exists(fs::path(dir) / "initdb")) return dir;
  }
  return Status::NotFound(
      "PostgreSQL server programs (initdb, pg_ctl) not found: install the postgresql-15 "
      "package or set CERTCTL_PG_BIN_DIR");
}

LocalCluster::LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {
  options_.dir = fs::absolute(options_.dir).lexically_normal().string();
  while (options_.dir.size() > 1 && options_.dir.back() == '/') options_.dir.pop_back();
}

Status LocalCluster::RunTool(const std::vector<std::string>& argv,
                             std::string* output) const {
  ProcessOptions po;
  if (::geteuid() == 0) {
    ASSIGN_OR_RETURN(RunAs account, LookupAccount(options_.run_as));
    po.run_as = account;
  }
  po.working_dir = options_.dir;  // postgres may not be able to read the caller's cwd
  std::vector<std::string> full = argv;
  full[0] = options_.bin_dir + "/" + argv[0];
  ASSIGN_OR_RETURN(ProcessResult r, RunProcess(full, po));
  if (output) *output = r.output;
  if (r.exit_code != 0) {
    std::string out = r.output;
    if (out.size() > 2000) out = "..." + out.substr(out.size() - 2000);
    return Status::Internal(argv[0] + " failed (exit " + std::to_string(r.exit_code) +
                            "): " + out);
  }
  return Status::Ok();
}

Status LocalCluster::PrepareDirectories() {
  if (options_.dir.find_first_of(" '\\\"") != std::string::npos) {
    return Status::InvalidArgument(
        "cluster directory must not contain spaces or quotes: " + options_.dir);
  }
  if (socket_dir().size() + 20 > 107) {
    return Status::InvalidArgument("cluster directory path too long for a unix socket: " +
                                   options_.dir);
  }
  if (options_.bin_dir.empty()) {
    ASSIGN_OR_RETURN(options_.bin_dir, FindPostgresBinDir());
  }
  RETURN_IF_ERROR(EnsureDirectory(options_.dir, 0700));
  RETURN_IF_ERROR(EnsureDirectory(socket_dir(), 0700));
  if (::geteuid() == 0) {
    ASSIGN_OR_RETURN(RunAs account, LookupAccount(options_.run_as));
    for (const auto& p : {options_.dir, socket_dir()}) {
      if (::chown(p.c_str(), account.uid, account.gid) != 0) {
        return Status::PermissionDenied("cannot give " + p + " to the " +
                                        options_.run_as + " account");
      }
    }
    // The server runs as that account and must reach the directory.
    if (::access(options_.dir.c_str(), X_OK) == 0) {
      auto probe =
          RunProcess({"test", "-x", options_.dir}, ProcessOptions{account, {}, "/"});
      if (probe.ok() && probe->exit_code != 0) {
        return Status::PermissionDenied(
            "the " + options_.run_as + " account cannot reach " + options_.dir +
            "; choose a directory whose parents are world-searchable (chmod o+x)");
      }
    }
  }
  return Status::Ok();
}

Status LocalCluster::Init(bool* created) {
  if (created) *created = false;
  RETURN_IF_ERROR(PrepareDirectories());
  if (fs::exists(fs::path(data_dir()) / "PG_VERSION")) return Status::Ok();
  RETURN_IF_ERROR(RunTool({"initdb", "-D", data_dir(), "-U", "postgres", "-A", "trust",
                           "-E", "UTF8", "--locale=C", "--no-instructions"}));
  if (created) *created = true;
  return Status::Ok();
}

bool LocalCluster::IsRunning() const {
  if (options_.bin_dir.empty()) return false;
  return RunTool({"pg_ctl", "status", "-D", data_dir()}).ok();
}

Status LocalCluster::Start(bool* started) {
  if (started) *started = false;
  RETURN_IF_ERROR(PrepareDirectories());
  if (IsRunning()) return Status::Ok();
  std::string opts = "-c listen_addresses='' -k " + socket_dir() + " -p " +
                     std::to_string(options_.port) + " -c max_connections=200";
  if (!options_.durable) {
    opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  }
  for (const auto& setting : options_.settings) opts += " -c " + setting;
  RETURN_IF_ERROR(RunTool({"pg_ctl", "start", "-w", "-t", "60", "-D", data_dir(), "-l",
                           log_file(), "-o", opts}));
  if (started) *started = true;
  return Status::Ok();
}

Status LocalCluster::Stop(bool immediate) {
  if (options_.bin_dir.empty() || !IsRunning()) return Status::Ok();
  return RunTool({"pg_ctl", "stop", "-w", "-t", "60", "-D", data_dir(), "-m",
                  immediate ? "immediate" : "fast"});
}

std::string LocalCluster::ConnectionString(const std::string& database) const {
  return "host=" + socket_dir() + " port=" + std::to_string(options_.port) +
         " user=postgres dbname=" + database;
}

Status LocalCluster::CreateDatabase(const std::string& name,
                                    const std::string& template_name) {
  return Guard("create database " + name, [&] {
    pqxx::connection c(ConnectionString("postgres"));
    pqxx::nontransaction tx(c);
    std::string sql = "CREATE DATABASE " + tx.quote_name(name);
    if (!template_name.empty()) sql += " TEMPLATE " + tx.quote_name(template_name);
    tx.exec(sql);
    return Status::Ok();
  });
}

Status LocalCluster::EnsureDatabase(const std::string& name, bool* created) {
  if (created) *created = false;
  return Guard("ensure database " + name, [&] {
    pqxx::connection c(ConnectionString("postgres"));
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", name);
    if (r.empty()) {
      tx.exec("CREATE DATABASE " + tx.quote_name(name));
      if (created) *created = true;
    }
    return Status::Ok();
  });
}

Status LocalCluster::DropDatabase(const std::string& name) {
  return Guard("drop database " + name, [&] {
    pqxx::connection c(ConnectionString("postgres"));
    pqxx::nontransaction tx(c);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
    return Status::Ok();
  });
}

}  // namespace certctl
