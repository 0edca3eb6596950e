// `certctl-admin config check` and `certctl-admin dr check` through the real
// binary: exit codes, output formats, and what certctld itself says.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "certctl/ops/audit_ops.h"
#include "certctl/ops/ca_backup.h"
#include "certctl/ops/crl_ops.h"
#include "certctl/ops/dr_check.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/ca.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "cmd/admin_fixture.h"
#include "store/local_cluster.h"

namespace certctl {
namespace {

using std::chrono::hours;

class DrAdminTest : public testing::AdminTest {
 protected:
  // certctld's settings beyond Environment(): a TLS certificate and free ports.
  std::vector<std::string> DaemonEnv() {
    std::string cert = *dir_ / "tls.crt", key = *dir_ / "tls.key";
    if (!std::filesystem::exists(cert)) {
      auto tls = CreateSelfSignedCa({.common_name = "127.0.0.1"},
                                    std::chrono::system_clock::now());
      EXPECT_TRUE(tls.ok());
      EXPECT_TRUE(WriteCaFiles(*tls, cert, key).ok());
    }
    return {"CERTCTL_SERVER_TLS_CERT_PATH=" + cert, "CERTCTL_SERVER_TLS_KEY_PATH=" + key,
            "CERTCTL_LISTEN_API=127.0.0.1:" + std::to_string(e2e::FreePort()),
            "CERTCTL_LISTEN_PKI=127.0.0.1:" + std::to_string(e2e::FreePort())};
  }

  // certctld run to its end with the same settings (it refuses before it
  // listens; `timeout` keeps a test that is wrong from hanging).
  ProcessResult Certctld(const std::vector<std::string>& env) {
    // Admin()'s rule: `env` overrides Environment() (the first of two equal
    // names would win in the child).
    auto vars = Environment();
    for (const auto& e : env) vars[e.substr(0, e.find('='))] = e.substr(e.find('=') + 1);
    ProcessOptions options;
    for (const auto& [k, v] : vars) options.extra_env.push_back(k + "=" + v);
    auto run =
        RunProcess({"timeout", "60", CERTCTLD_PATH, "--config", empty_config_}, options);
    EXPECT_TRUE(run.ok());
    return run.ok() ? *run : ProcessResult{};
  }

  // What `dr check --profile daily` needs to be all ok: a responder, a CRL, a
  // CA backup, and database backups (a fresh real dump and a 40-day-old one).
  void MakeDailyHealthy() {
    auto ctx = Context();
    ops::OpReport r1, r2, r3;
    ASSERT_TRUE(ops::EnsureOcspResponder(ctx, kLocalIssuerId, 1, r1).ok());
    ASSERT_TRUE(
        ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, r2).ok());
    ASSERT_TRUE(ops::BackupCa(ctx, kLocalIssuerId, *dir_ / "ca-backup", r3).ok());
    backups_ = *dir_ / "db-backups";
    std::filesystem::create_directory(backups_);
    auto bin = FindPostgresBinDir();
    ASSERT_TRUE(bin.ok());
    auto dump = RunProcess({*bin + "/pg_dump", "--format=custom",
                            "--file=" + backups_ + "/new.dump", "--dbname=" + url_});
    ASSERT_TRUE(dump.ok() && dump->exit_code == 0) << (dump.ok() ? dump->output : "");
    std::filesystem::copy_file(backups_ + "/new.dump", backups_ + "/old.dump");
    Age(backups_ + "/old.dump", hours(24 * 40));
  }

  static void Age(const std::string& path, std::chrono::seconds age) {
    timeval times[2];
    times[0].tv_sec = times[1].tv_sec =
        std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() - age);
    times[0].tv_usec = times[1].tv_usec = 0;
    ASSERT_EQ(::utimes(path.c_str(), times), 0);
  }

  std::string backups_;
};

// The node_exporter textfile format, checked line by line as promtool's
// parser reads it (promtool itself is not a Debian package this project
// installs): every sample's metric has one HELP and one TYPE gauge line
// before it, names are valid, values are numbers. Returns metric -> value.
std::map<std::string, double> ParseTextfile(const std::string& text) {
  static const std::regex name("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex sample(
      "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\\\\\n]*\"\\})? "
      "(-?[0-9.e+]+)");
  std::map<std::string, double> out;
  std::set<std::string> helped, typed;
  std::istringstream in(text);
  std::string line;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::string rest = line.substr(7);
      std::string metric = rest.substr(0, rest.find(' '));
      EXPECT_TRUE(std::regex_match(metric, name)) << line;
      auto& seen = line[2] == 'H' ? helped : typed;
      EXPECT_TRUE(seen.insert(metric).second) << "twice: " << line;
      if (line[2] == 'T') {
        EXPECT_EQ(rest.substr(metric.size()), " gauge") << line;
      }
      continue;
    }
    bool is_sample = std::regex_match(line, m, sample);
    EXPECT_TRUE(is_sample) << "not a sample: " << line;
    if (!is_sample) continue;
    std::string metric = m[1];
    EXPECT_TRUE(helped.count(metric) && typed.count(metric)) << "no HELP/TYPE: " << line;
    out[metric] = std::stod(m[3]);
  }
  return out;
}

TEST_F(DrAdminTest, ConfigCheckSaysWhatCertctldWouldSay) {
  auto env = DaemonEnv();
  auto good = Admin({"config", "check"}, env);
  EXPECT_EQ(good.exit_code, 0) << good.Both();
  EXPECT_NE(good.out.find("certctld would start"), std::string::npos) << good.out;

  // The CA files replaced by hand: certctld refuses, and config check says so
  // first, with certctld's own message.
  auto other = CreateSelfSignedCa({}, std::chrono::system_clock::now());
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(WriteCaFiles(*other, *dir_ / "new-ca.crt", *dir_ / "new-ca.key").ok());
  env.push_back("CERTCTL_CA_CERT_PATH=" + *dir_ / "new-ca.crt");
  env.push_back("CERTCTL_CA_KEY_PATH=" + *dir_ / "new-ca.key");
  auto refused = Admin({"-o", "json", "config", "check"}, env);
  EXPECT_EQ(refused.exit_code, 1) << refused.Both();
  EXPECT_FALSE(refused.json["data"]["would_start"].get<bool>());
  std::string message;
  for (const auto& c : refused.json["data"]["checks"]) {
    if (c["name"] == "ca") message = c["message"];
  }
  EXPECT_NE(message.find("is none of the CA generations of iss-local"), std::string::npos)
      << refused.out;
  auto daemon = Certctld(env);
  EXPECT_EQ(daemon.exit_code, 78) << daemon.output;  // certctld: configuration
  EXPECT_NE(daemon.output.find(message), std::string::npos)
      << daemon.output << "\nconfig check said: " << message;
}

TEST_F(DrAdminTest, ConfigCheckNamesAPortInUseAndAnOpenKey) {
  auto env = DaemonEnv();
  // A listener holds the PKI port.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string port = std::to_string(ntohs(addr.sin_port));
  env.push_back("CERTCTL_LISTEN_PKI=127.0.0.1:" + port);
  auto in_use = Admin({"config", "check"}, env);
  EXPECT_EQ(in_use.exit_code, 1) << in_use.Both();
  EXPECT_NE(in_use.out.find("certctld would refuse to start: listen_pki "
                            "(CERTCTL_LISTEN_PKI): cannot bind 127.0.0.1:" +
                            port),
            std::string::npos)
      << in_use.out;
  EXPECT_EQ(Admin({"config", "check", "--restart"}, env).exit_code, 0);
  ::close(fd);

  ASSERT_EQ(::chmod((*dir_ / "tls.key").c_str(), 0644), 0);
  auto open_key = Admin({"config", "check"}, DaemonEnv());
  EXPECT_EQ(open_key.exit_code, 1) << open_key.Both();
  EXPECT_NE(open_key.out.find(*dir_ / "tls.key"), std::string::npos) << open_key.out;

  // A value that does not parse: certctld's configuration error, exit 78.
  auto bad = Admin({"config", "check"}, {"CERTCTL_CRL_VALIDITY=soon"});
  EXPECT_EQ(bad.exit_code, 78) << bad.Both();
  EXPECT_NE(bad.err.find("CERTCTL_CRL_VALIDITY"), std::string::npos) << bad.err;
}

TEST_F(DrAdminTest, DrCheckExitCodes) {
  MakeDailyHealthy();
  ASSERT_FALSE(HasFatalFailure());
  auto ok = Admin({"dr", "check", "--profile", "daily", "--backup-dir", backups_});
  EXPECT_EQ(ok.exit_code, 0) << ok.Both();
  EXPECT_NE(ok.out.find("10 ok, 0 warning, 0 critical, 0 unknown (profile daily)"),
            std::string::npos)
      << ok.out;

  Age(backups_ + "/new.dump", hours(30));
  auto warning = Admin({"dr", "check", "--profile", "daily", "--backup-dir", backups_});
  EXPECT_EQ(warning.exit_code, 3) << warning.Both();
  EXPECT_NE(warning.out.find("database_backup_age: pg_dump"), std::string::npos)
      << warning.out;

  std::filesystem::remove(backups_ + "/new.dump");
  std::filesystem::remove(backups_ + "/old.dump");
  auto critical = Admin({"dr", "check", "--profile", "daily", "--backup-dir", backups_});
  EXPECT_EQ(critical.exit_code, 4) << critical.Both();

  // Without a backup directory those checks cannot tell: unknown is 3.
  EXPECT_EQ(Admin({"dr", "check", "--profile", "daily"}).exit_code, 3);

  // Usage: 2, and nothing audited.
  std::string before = AuditOutcomes("dr.check");
  EXPECT_EQ(Admin({"dr", "check", "--profile", "weekly"}).exit_code, 2);
  EXPECT_EQ(Admin({"dr", "check", "--thresholds", *dir_ / "none.yaml"}).exit_code, 2);
  std::string bad = *dir_ / "bad.yaml";
  ASSERT_TRUE(WriteFileAtomic(bad, "drill_warning: soon\n", {.mode = 0644}).ok());
  auto bad_run = Admin({"dr", "check", "--thresholds", bad});
  EXPECT_EQ(bad_run.exit_code, 2) << bad_run.Both();
  EXPECT_NE(bad_run.err.find("drill_warning"), std::string::npos) << bad_run.err;
  EXPECT_EQ(AuditOutcomes("dr.check"), before);
  EXPECT_EQ(before, "succeeded,succeeded,succeeded,succeeded");
}

TEST_F(DrAdminTest, DrCheckOutputFormats) {
  MakeDailyHealthy();
  ASSERT_FALSE(HasFatalFailure());
  auto json = Admin({"dr", "check", "--backup-dir", backups_, "-o", "json"});
  EXPECT_EQ(json.exit_code, 4) << json.Both();  // never a restore check or drill
  ASSERT_FALSE(json.json.is_discarded()) << json.out;
  EXPECT_EQ(testing::Keys(json.json["data"]),
            "checked_at,checks,counts,profile,recorded,status");
  EXPECT_EQ(json.json["data"]["status"], "critical");
  EXPECT_EQ(json.json["data"]["checks"].size(), ops::DrChecks().size());
  EXPECT_EQ(testing::Keys(json.json["data"]["checks"][0]),
            "fix,message,name,profile,status");
  EXPECT_TRUE(json.json["data"]["recorded"].get<bool>());

  auto prom = Admin({"dr", "check", "--backup-dir", backups_, "--output", "prometheus"});
  EXPECT_EQ(prom.exit_code, 4) << prom.Both();
  auto metrics = ParseTextfile(prom.out);
  EXPECT_EQ(metrics.size(), ops::DrChecks().size() + 2) << prom.out;
  EXPECT_EQ(metrics["certctl_dr_check_database_backup_age"], 0);
  EXPECT_EQ(metrics["certctl_dr_check_restore_check"], 2);
  EXPECT_EQ(metrics["certctl_dr_check_api_keys_age"], 0);  // none configured
  EXPECT_EQ(metrics["certctl_dr_check_status"], 2);
  EXPECT_GT(metrics["certctl_dr_check_last_run_timestamp_seconds"], 1.7e9);
  // Valid for Prometheus' own checker (scripts/setup installs promtool with
  // the prometheus package), which refuses a broken file.
  auto promtool = [&](const std::string& text) {
    std::string file = *dir_ / "certctl_dr.prom";
    EXPECT_TRUE(WriteFileAtomic(file, text, {.mode = 0644}).ok());
    auto r = RunProcess({"/bin/sh", "-c", "promtool check metrics < \"$0\"", file});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : ProcessResult{};
  };
  auto checked = promtool(prom.out);
  EXPECT_EQ(checked.exit_code, 0) << checked.output << "\n" << prom.out;
  EXPECT_EQ(checked.output, "") << prom.out;
  auto broken =
      promtool("# TYPE certctl_dr_check_status gauge\ncertctl_dr_check_status{\n");
  EXPECT_NE(broken.exit_code, 0) << broken.output;

  auto list = Admin({"dr", "check", "--list"});
  EXPECT_EQ(list.exit_code, 0) << list.Both();
  for (const auto& c : ops::DrChecks()) {
    EXPECT_NE(list.out.find(c.name), std::string::npos) << c.name;
  }
  auto list_json = Admin({"-o", "json", "dr", "check", "--list"});
  EXPECT_EQ(list_json.json["data"]["checks"].size(), ops::DrChecks().size());
}

TEST_F(DrAdminTest, DrReportCollectsTheEvidence) {
  // A check, a drill and a restore check (as their commands record them), a
  // CA backup and a CRL regenerated.
  EXPECT_EQ(Admin({"dr", "check", "--profile", "annual"}).exit_code, 4);
  auto ctx = Context();
  ASSERT_TRUE(
      ops::WriteAuditEvent(ctx, "dr.drill", "scratch", "drill | passed", true).ok());
  ASSERT_TRUE(ops::WriteAuditEvent(ctx, "db.restore-check", "dump", "usable", true).ok());
  EXPECT_EQ(Admin({"ca", "backup", "iss-local", "--to", *dir_ / "b1"}).exit_code, 0);
  EXPECT_EQ(Admin({"crl", "regenerate", "iss-local"}).exit_code, 0);

  auto md = Admin({"dr", "report", "--since", "1d"});
  EXPECT_EQ(md.exit_code, 0) << md.Both();
  for (const char* heading :
       {"# certctl DR evidence", "Audit log: intact", "## DR checks (1)",
        "## DR drills (1)", "## Restore checks (1)", "## CA backups (1)",
        "## Rotations (0)", "## Recoveries (1)"}) {
    EXPECT_NE(md.out.find(heading), std::string::npos) << heading << "\n" << md.out;
  }
  EXPECT_NE(md.out.find("| dr.drill | scratch | succeeded | tester | test-host | drill "
                        "\\| passed |"),
            std::string::npos)
      << md.out;

  auto json = Admin({"dr", "report", "--since", "1d", "-o", "json"});
  EXPECT_EQ(json.exit_code, 0) << json.Both();
  EXPECT_EQ(testing::Keys(json.json["data"]), "audit_log,sections,since,until");
  EXPECT_TRUE(json.json["data"]["audit_log"]["intact"].get<bool>());
  ASSERT_EQ(json.json["data"]["sections"].size(), 6u);
  EXPECT_EQ(json.json["data"]["sections"][0]["events"][0]["outcome"], "succeeded");

  // A period after everything: nothing, also past the year 2262, where a
  // TimePoint's nanoseconds end; a date that is not one: 2.
  for (const char* date : {"2030-01-01", "2999-01-01"}) {
    auto later = Admin({"dr", "report", "--since", date});
    EXPECT_EQ(later.exit_code, 0) << later.Both();
    for (const char* heading :
         {"## DR checks (0)", "## DR drills (0)", "## Recoveries (0)"}) {
      EXPECT_NE(later.out.find(heading), std::string::npos) << date << "\n"
                                                            << later.Both();
    }
  }
  EXPECT_EQ(Admin({"dr", "report", "--since", "last week"}).exit_code, 2);
  EXPECT_EQ(Admin({"dr", "report"}).exit_code, 2);
}

}  // namespace
}  // namespace certctl
