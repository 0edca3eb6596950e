#include "certctl/ops/dev_environment.h"

#include <filesystem>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/serial.h"
#include "certctl/store/database.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "store/local_cluster.h"
#include "store/migrator.h"

namespace certctl::ops {
namespace fs = std::filesystem;

namespace {

constexpr char kDatabase[] = "certctl";

Status EnsureCa(DevEnvironment& env) {
  std::string cert = env.data_dir + "/ca/ca.crt", key = env.data_dir + "/ca/ca.key";
  bool have_cert = fs::exists(cert), have_key = fs::exists(key);
  if (have_cert && have_key) return Status::Ok();
  if (have_cert != have_key) {
    return Status::FailedPrecondition(
        "dev CA is half there: " + (have_cert ? key : cert) +
        " is missing; restore it or remove " + env.data_dir + " to start over");
  }
  RETURN_IF_ERROR(EnsureDirectory(env.data_dir + "/ca", 0700));
  ASSIGN_OR_RETURN(CaMaterial ca,
                   CreateSelfSignedCa({}, std::chrono::system_clock::now()));
  RETURN_IF_ERROR(WriteCaFiles(ca, cert, key));
  env.ca_created = true;
  env.notes.push_back("created the local CA " + cert);
  return Status::Ok();
}

// certctld's own TLS certificate for 127.0.0.1/localhost, from the local CA;
// re-issued when missing or within 7 days of expiry.
Status EnsureServerCertificate(DevEnvironment& env) {
  std::string cert_path = env.data_dir + "/tls/server.crt";
  std::string key_path = env.data_dir + "/tls/server.key";
  auto now = std::chrono::system_clock::now();
  if (fs::exists(cert_path) && fs::exists(key_path)) {
    auto existing = LoadCertificateFile(cert_path);
    if (existing.ok() && NotAfter(existing->get()) > now + std::chrono::hours(24 * 7)) {
      return Status::Ok();
    }
  }
  ASSIGN_OR_RETURN(CaMaterial ca,
                   LoadCa(env.data_dir + "/ca/ca.crt", env.data_dir + "/ca/ca.key", now));
  ASSIGN_OR_RETURN(auto key, GenerateKey(KeyAlgorithm::kEcdsaP256));
  IssueRequest r;
  r.common_name = "localhost";
  r.public_key = key.get();
  r.not_before = now - std::chrono::minutes(1);
  r.not_after = now + std::chrono::hours(24 * 90);
  r.key_usage = "digitalSignature";
  r.extended_key_usage = "serverAuth";
  r.dns_names = {"localhost"};
  r.ip_addresses = {"127.0.0.1", "::1"};
  ASSIGN_OR_RETURN(Serial serial, Serial::Random());
  ASSIGN_OR_RETURN(auto cert, IssueCertificate(r, serial, ca.cert.get(), ca.key.get()));
  RETURN_IF_ERROR(EnsureDirectory(env.data_dir + "/tls", 0700));
  RETURN_IF_ERROR(WritePrivateKeyFile(key_path, key.get()));
  RETURN_IF_ERROR(
      WriteFileAtomic(cert_path, CertificateToPem(cert.get()), {.mode = 0644}));
  env.notes.push_back("issued certctld's TLS certificate " + cert_path);
  return Status::Ok();
}

Status EnsureApiKey(DevEnvironment& env) {
  std::string path = env.data_dir + "/api-key";
  if (fs::exists(path)) return Status::Ok();
  ASSIGN_OR_RETURN(std::string raw, RandomBytes(24));
  std::string key = "dev-" + HexEncode(raw);
  RETURN_IF_ERROR(
      WriteFileAtomic(path, key + "\n", {.mode = 0600, .allow_overwrite = false}));
  env.new_api_key = key;
  return Status::Ok();
}

Status EnsureAuditKey(DevEnvironment& env) {
  std::string path = env.data_dir + "/audit-key";
  if (fs::exists(path)) return Status::Ok();
  ASSIGN_OR_RETURN(std::string raw, RandomBytes(32));
  RETURN_IF_ERROR(WriteFileAtomic(path, HexEncode(raw) + "\n",
                                  {.mode = 0600, .allow_overwrite = false}));
  env.notes.push_back("created the audit key " + path);
  return Status::Ok();
}

std::string AuditSettings(const std::string& d) {
  return "audit_key_file: " + d + "/audit-key\naudit_anchor_file: " + d +
         "/audit.anchor\n";
}

// A config written before audit keys existed gets the two settings appended.
Status AddAuditSettings(DevEnvironment& env) {
  ASSIGN_OR_RETURN(std::string yaml, ReadFile(env.config_path));
  if (yaml.find("audit_key") != std::string::npos) return Status::Ok();
  if (!yaml.empty() && yaml.back() != '\n') yaml += "\n";
  yaml += AuditSettings(env.data_dir);
  RETURN_IF_ERROR(
      WriteFileAtomic(env.config_path, yaml, {.mode = 0600, .keep_backup = false}));
  env.notes.push_back("added the audit key and anchor to " + env.config_path);
  return Status::Ok();
}

Status EnsureConfig(DevEnvironment& env) {
  if (fs::exists(env.config_path)) return AddAuditSettings(env);
  const std::string& d = env.data_dir;
  std::string yaml =
      "# certctl dev-mode configuration, written by `certctld --dev`.\n"
      "# CERTCTL_* environment variables override these keys.\n"
      "database_url: " +
      env.cluster->ConnectionString(kDatabase) +
      "\n"
      "ca_cert_path: " +
      d +
      "/ca/ca.crt\n"
      "ca_key_path: " +
      d +
      "/ca/ca.key\n"
      "ocsp_responder_key_dir: " +
      d +
      "/ocsp-responder-keys\n"
      "api_key_file: " +
      d +
      "/api-key\n"
      "server_tls_cert_path: " +
      d +
      "/tls/server.crt\n"
      "server_tls_key_path: " +
      d +
      "/tls/server.key\n"
      "pid_file: " +
      DevPidFilePath(d) + "\n" + AuditSettings(d);
  RETURN_IF_ERROR(WriteFileAtomic(env.config_path, yaml, {.mode = 0600}));
  env.notes.push_back("wrote " + env.config_path);
  return Status::Ok();
}

}  // namespace

DevDataDirSearch FindDevDataDir(const std::string& given, const std::string& variable,
                                const std::string& cwd) {
  DevDataDirSearch search;
  search.from = fs::absolute(cwd).lexically_normal().string();
  auto absolute = [](const std::string& dir) {
    std::string out = fs::absolute(dir).lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
  };
  if (!given.empty()) {
    search.found = absolute(given);
    search.how = "--data-dir";
    return search;
  }
  if (!variable.empty()) {
    search.found = absolute(variable);
    search.how = kDevDirVariable;
    return search;
  }
  std::error_code ec;
  for (fs::path dir = search.from;; dir = dir.parent_path()) {
    if (fs::is_directory(dir / kDevDataDirName, ec)) {
      search.found = absolute(dir / kDevDataDirName);
      search.how = "found above " + search.from;
      return search;
    }
    if (dir == dir.root_path() || dir.parent_path() == dir) break;
  }
  return search;
}

std::string DevDataDirSearch::NotFoundMessage() const {
  return std::string("no dev data directory: there is no ") + kDevDataDirName + " in " +
         from +
         " or any directory above it (start `certctld --dev` in the checkout, "
         "or name the directory with --data-dir or " +
         kDevDirVariable + ")";
}

std::optional<std::string> StoppedDevCluster(const std::string& database_url) {
  auto target = ParseConnectionTarget(database_url);
  if (!target.ok() || target->host.empty() || target->host[0] != '/') return std::nullopt;
  fs::path socket_dir = fs::path(target->host).lexically_normal();
  if (socket_dir.filename().empty()) socket_dir = socket_dir.parent_path();
  fs::path pg = socket_dir.parent_path();
  fs::path data_dir = pg.parent_path();
  std::error_code ec;
  if (socket_dir.filename() != "run" || pg.filename() != "pg" ||
      !fs::exists(pg / "pgdata", ec) || !fs::exists(data_dir / "certctl.yaml", ec)) {
    return std::nullopt;
  }
  auto bin_dir = FindPostgresBinDir();  // none: it cannot be running here
  if (bin_dir.ok() &&
      LocalCluster({.dir = pg.string(), .bin_dir = *bin_dir}).IsRunning()) {
    return std::nullopt;
  }
  return data_dir.string();
}

std::string DevConfigPath(const std::string& data_dir) {
  return fs::absolute(data_dir).lexically_normal().string() + "/certctl.yaml";
}

std::string DevPidFilePath(const std::string& data_dir) {
  std::string dir = fs::absolute(data_dir).lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/certctld.pid";
}

DevEnvironment::DevEnvironment() = default;
DevEnvironment::~DevEnvironment() = default;
DevEnvironment::DevEnvironment(DevEnvironment&&) noexcept = default;
DevEnvironment& DevEnvironment::operator=(DevEnvironment&&) noexcept = default;

Status DevEnvironment::StopClusterIfStarted() {
  if (!cluster || !cluster_started) return Status::Ok();
  return cluster->Stop();
}

Result<DevEnvironment> PrepareDevEnvironment(const std::string& data_dir) {
  DevEnvironment env;
  env.data_dir = fs::absolute(data_dir).lexically_normal().string();
  while (env.data_dir.size() > 1 && env.data_dir.back() == '/') env.data_dir.pop_back();
  env.config_path = env.data_dir + "/certctl.yaml";
  // 0711: the PostgreSQL account must pass through to pg/ when run as root.
  RETURN_IF_ERROR(EnsureDirectory(env.data_dir, 0711));
  LocalClusterOptions options;
  options.dir = env.data_dir + "/pg";
  env.cluster = std::make_unique<LocalCluster>(options);
  RETURN_IF_ERROR(env.cluster->Init(&env.cluster_created));
  if (env.cluster_created)
    env.notes.push_back("created a PostgreSQL cluster in " + options.dir);
  RETURN_IF_ERROR(env.cluster->Start(&env.cluster_started));
  env.notes.push_back("PostgreSQL listening on " + env.cluster->socket_dir());
  bool db_created = false;
  RETURN_IF_ERROR(env.cluster->EnsureDatabase(kDatabase, &db_created));
  ASSIGN_OR_RETURN(auto db,
                   Database::Open({.url = env.cluster->ConnectionString(kDatabase),
                                   .pool_size = 1,
                                   .application_name = "certctld --dev"}));
  ASSIGN_OR_RETURN(MigrationReport migrated, Migrate(*db));
  if (!migrated.applied.empty()) {
    env.notes.push_back("migrated the database to version " +
                        std::to_string(migrated.to_version));
  }
  RETURN_IF_ERROR(EnsureCa(env));
  RETURN_IF_ERROR(EnsureServerCertificate(env));
  RETURN_IF_ERROR(EnsureDirectory(env.data_dir + "/ocsp-responder-keys", 0700));
  RETURN_IF_ERROR(EnsureApiKey(env));
  RETURN_IF_ERROR(EnsureAuditKey(env));
  RETURN_IF_ERROR(EnsureConfig(env));
  return env;
}

}  // namespace certctl::ops
