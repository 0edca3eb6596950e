#include "cmd/admin_fixture.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "support/test_pki.h"

extern char** environ;

namespace certctl::testing {
namespace {

// The child must see only the configuration the test gives it.
void ClearCertctlEnvironment() {
  std::vector<std::string> names;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("CERTCTL_", 0) == 0)
      names.emplace_back(entry.substr(0, entry.find('=')));
  }
  for (const auto& n : names) ::unsetenv(n.c_str());
  ::unsetenv("NO_COLOR");
}

// certctld's TLS certificate for 127.0.0.1, from the test CA.
void WriteServerCertificate(const std::string& ca_cert, const std::string& ca_key,
                            const std::string& cert_path, const std::string& key_path) {
  auto ca = LoadCa(ca_cert, ca_key, std::chrono::system_clock::now());
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  ServerCertificate server = LocalhostServerCertificate(ca->cert.get(), ca->key.get());
  ASSERT_TRUE(WritePrivateKeyFile(key_path, server.key.get()).ok());
  ASSERT_TRUE(WriteFileAtomic(cert_path, server.cert_pem, {.mode = 0644}).ok());
}

}  // namespace

RunningDaemon::~RunningDaemon() {
  if (process && process->Running()) {
    process->Signal(SIGTERM);
    process->Wait(std::chrono::seconds(20));
  }
}

void AdminTest::SetUp() {
  ClearCertctlEnvironment();
  OpsTest::SetUp();
  if (HasFatalFailure()) return;
  empty_config_ = *dir_ / "certctl.yaml";
  ASSERT_TRUE(WriteFileAtomic(empty_config_, "# all settings come from CERTCTL_*\n",
                              {.mode = 0600})
                  .ok());
  auto raw = RandomBytes(16);
  ASSERT_TRUE(raw.ok());
  api_key_ = "admin-test-" + HexEncode(*raw);
}

std::map<std::string, std::string> AdminTest::Environment() const {
  return {{"CERTCTL_DATABASE_URL", url_},
          {"CERTCTL_CA_CERT_PATH", ca_cert_path_},
          {"CERTCTL_CA_KEY_PATH", ca_key_path_},
          {"CERTCTL_OCSP_RESPONDER_KEY_DIR", KeyDir()},
          {"CERTCTL_AUDIT_KEY", kTestAuditKey},
          {"CERTCTL_AUDIT_ANCHOR_FILE", config_.audit_anchor_file}};
}

AdminRun AdminTest::Admin(const std::vector<std::string>& args,
                          const std::vector<std::string>& env) {
  static std::atomic<int> counter{0};
  std::string err_path = *dir_ / ("stderr-" + std::to_string(++counter));
  auto vars = Environment();
  for (const auto& e : env) {
    size_t eq = e.find('=');
    if (eq + 1 == e.size()) {
      vars.erase(e.substr(0, eq));
    } else {
      vars[e.substr(0, eq)] = e.substr(eq + 1);
    }
  }
  ProcessOptions options;
  for (const auto& [k, v] : vars) options.extra_env.push_back(k + "=" + v);
  options.extra_env.push_back("ADMIN_TEST_STDERR=" + err_path);
  // RunProcess merges stdout and stderr; the shell sends stderr to a file
  // so JSON on stdout stays parseable. stdin is /dev/null: not a terminal.
  std::vector<std::string> argv = {
      "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>\"$ADMIN_TEST_STDERR\"", CERTCTL_ADMIN_PATH};
  // No stray /etc/certctl/certctl.yaml: an empty file unless the test names one.
  bool own_config = false;
  for (const auto& a : args)
    own_config = own_config || a == "--config" || a.rfind("--config=", 0) == 0;
  if (!own_config) argv.insert(argv.end(), {"--config", empty_config_});
  argv.insert(argv.end(), args.begin(), args.end());
  AdminRun run;
  auto r = RunProcess(argv, options);
  if (!r.ok()) {
    ADD_FAILURE() << r.status().ToString();
    return run;
  }
  run.exit_code = r->exit_code;
  run.out = r->output;
  auto err = ReadFile(err_path);
  run.err = err.ok() ? *err : "";
  run.json = nlohmann::json::parse(run.out, nullptr, false);
  return run;
}

std::map<std::string, std::string> AdminTest::Snapshot() {
  std::map<std::string, std::string> out;
  std::string tables = Sql(url_,
                           "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM "
                           "information_schema.tables WHERE table_schema = 'public' AND "
                           "table_type = 'BASE TABLE'");
  size_t start = 0;
  while (start < tables.size()) {
    size_t comma = tables.find(',', start);
    std::string t =
        tables.substr(start, comma == std::string::npos ? comma : comma - start);
    out["table " + t] =
        Sql(url_,
            "SELECT count(*) || ' rows ' || coalesce(md5(string_agg(x::text, "
            "'|' ORDER BY x::text)), '') FROM " +
                t + " x");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(dir_->path(), ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("stderr-", 0) == 0) continue;  // the runner's own files
    auto mode = FileMode(entry.path());
    std::string content;
    if (entry.is_regular_file()) {
      auto text = ReadFile(entry.path());
      content = text.ok() ? Sha256Hex(*text) : text.status().ToString();
    }
    out["file " + entry.path().string()] =
        (mode.ok() ? std::to_string(*mode) : std::string("?")) + " " + content;
  }
  return out;
}

std::string AdminTest::AuditOutcomes(const std::string& action) {
  return Sql(
      url_,
      "SELECT coalesce(string_agg(outcome, ',' ORDER BY id), '') FROM audit_events "
      "WHERE action = '" +
          action + "'");
}

std::unique_ptr<OperationLock> AdminTest::HoldLock(const std::string& name) {
  auto lock = OperationLock::Acquire(db(), name, {"certctld", "host-a", 4242});
  EXPECT_TRUE(lock.ok()) << lock.status().ToString();
  return lock.ok() ? std::move(lock).value() : nullptr;
}

std::unique_ptr<RunningDaemon> AdminTest::LaunchDaemon(
    const std::map<std::string, std::string>& extra) {
  auto d = std::make_unique<RunningDaemon>();
  std::string tls_cert = *dir_ / "tls.crt", tls_key = *dir_ / "tls.key";
  if (!std::filesystem::exists(tls_cert)) {
    WriteServerCertificate(ca_cert_path_, ca_key_path_, tls_cert, tls_key);
  }
  int api_port = e2e::FreePort(), pki_port = e2e::FreePort();
  d->api = "https://127.0.0.1:" + std::to_string(api_port);
  d->pki = "http://127.0.0.1:" + std::to_string(pki_port);
  d->env = Environment();
  d->env["CERTCTL_API_KEY"] = api_key_;
  d->env["CERTCTL_SERVER_TLS_CERT_PATH"] = tls_cert;
  d->env["CERTCTL_SERVER_TLS_KEY_PATH"] = tls_key;
  d->env["CERTCTL_LISTEN_API"] = "127.0.0.1:" + std::to_string(api_port);
  d->env["CERTCTL_LISTEN_PKI"] = "127.0.0.1:" + std::to_string(pki_port);
  d->env["CERTCTL_BASE_URL"] = d->pki;
  d->env["CERTCTL_PID_FILE"] = *dir_ / "certctld.pid";
  for (const auto& [k, v] : extra) d->env[k] = v;
  std::vector<std::string> argv = {CERTCTLD_PATH};
  if (d->env.count("CONFIG")) {
    argv.insert(argv.end(), {"--config", d->env["CONFIG"]});
    d->env.erase("CONFIG");
  }
  d->process =
      std::make_unique<e2e::BackgroundProcess>(argv, d->env, *dir_ / "certctld.log");
  Status s = d->process->Start();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return d;
}

std::unique_ptr<RunningDaemon> AdminTest::StartDaemon(
    const std::map<std::string, std::string>& extra) {
  auto d = LaunchDaemon(extra);
  bool ready = Eventually([&] {
    if (!d->process->Running()) return false;
    auto o =
        RunProcess({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                    ca_cert_path_, "--max-time", "5", d->api + "/readyz"});
    return o.ok() && o->output == "200";
  });
  EXPECT_TRUE(ready) << "certctld did not become ready:\n" << d->process->Log();
  return ready ? std::move(d) : nullptr;
}

}  // namespace certctl::testing
