// RunDrChecks (`dr check`): each check's ok, warning and critical paths, with
// the clock moved instead of waiting, backup files dated with utimes, a real
// pg_dump of the test database, and the run recorded in the audit log.
#include "certctl/ops/dr_check.h"

#include <sys/time.h>

#include <filesystem>
#include <fstream>

#include "certctl/log/logging.h"
#include "certctl/ops/audit_ops.h"
#include "certctl/ops/ca_backup.h"
#include "certctl/util/encoding.h"
#include "certctl/util/process.h"
#include "core/ops/ca_fixture.h"
#include "store/local_cluster.h"
#include "store/operation_lock.h"

namespace certctl {
namespace {

using ops::DrStatus;
using std::chrono::hours;
using testing::Sql;

constexpr auto kDay = hours(24);

class DrCheckTest : public testing::CaOpsTest {
 protected:
  void SetUp() override {
    CaOpsTest::SetUp();
    if (HasFatalFailure()) return;
    backups_ = *dir_ / "backups";
    std::filesystem::create_directory(backups_);
  }

  // One run at clock_ (read-only context but for its audit event).
  testing::OpRun<ops::DrCheckRun> Run(ops::DrProfile profile = ops::DrProfile::kAll) {
    ops::OpContext ctx{db(),      config_,
                       clock_,    NullLogger(),
                       *keyring_, {"tester", "test-host", "certctl-test", ""}};
    testing::OpRun<ops::DrCheckRun> run;
    ops::DrCheckOptions options{profile, thresholds_};
    run.result = ops::RunDrChecks(ctx, options, run);
    return run;
  }

  // The named check of a new run.
  ops::DrCheckResult Check(const std::string& name) {
    auto run = Run();
    EXPECT_TRUE(run.result.ok()) << run.status().ToString();
    if (!run.result.ok()) return {};
    for (const auto& c : run->checks) {
      if (c.name == name) return c;
    }
    ADD_FAILURE() << "no check " << name;
    return {};
  }
  DrStatus StatusOf(const std::string& name) { return Check(name).status; }

  // A file in the backup directory, modified `age` ago.
  std::string Backup(const std::string& name, std::chrono::seconds age,
                     const std::string& content = "") {
    std::string path = backups_ + "/" + name;
    if (!content.empty() || !std::filesystem::exists(path)) {
      std::ofstream(path, std::ios::binary) << content;
    }
    auto t = std::chrono::system_clock::now() - age;
    timeval times[2];
    times[0].tv_sec = times[1].tv_sec = std::chrono::system_clock::to_time_t(t);
    times[0].tv_usec = times[1].tv_usec = 0;
    EXPECT_EQ(::utimes(path.c_str(), times), 0);
    return path;
  }

  // A custom-format pg_dump of the test database, as bytes.
  std::string RealDump() {
    auto bin = FindPostgresBinDir();
    EXPECT_TRUE(bin.ok()) << bin.status().ToString();
    std::string file = *dir_ / "real.dump";
    auto run = RunProcess(
        {*bin + "/pg_dump", "--format=custom", "--file=" + file, "--dbname=" + url_});
    EXPECT_TRUE(run.ok() && run->exit_code == 0) << (run.ok() ? run->output : "");
    auto bytes = ReadFile(file);
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? *bytes : "";
  }

  std::string Ensure() {
    auto ctx = Context();
    ops::OpReport report;
    auto r = ops::EnsureOcspResponder(ctx, kLocalIssuerId, 1, report);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->responder ? r->responder->serial : "";
  }

  void BackUpCa(const std::string& name) {
    auto ctx = Context();
    ops::OpReport report;
    auto r = ops::BackupCa(ctx, kLocalIssuerId, *dir_ / name, report);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  void Audit(const std::string& action) {
    auto ctx = Context();
    ASSERT_TRUE(ops::WriteAuditEvent(ctx, action, "scratch", "done", true).ok());
  }

  FakeClock clock_{std::chrono::system_clock::now()};
  ops::DrThresholds thresholds_;
  std::string backups_;
};

TEST_F(DrCheckTest, DatabaseBackupsWithoutADirectoryAreUnknown) {
  for (const char* name :
       {"database_backup_age", "database_backup_retention", "database_backup_readable"}) {
    auto c = Check(name);
    EXPECT_EQ(c.status, DrStatus::kUnknown) << name;
    EXPECT_NE(c.message.find("--backup-dir"), std::string::npos) << c.message;
  }
}

TEST_F(DrCheckTest, DatabaseBackupAgeRetentionAndReadability) {
  thresholds_.backup_dir = backups_;
  // None at all: critical, naming the directory.
  auto none = Check("database_backup_age");
  EXPECT_EQ(none.status, DrStatus::kCritical);
  EXPECT_NE(none.message.find(backups_), std::string::npos) << none.message;
  EXPECT_NE(none.fix.find("pg_dump"), std::string::npos) << none.fix;

  std::string dump = RealDump();
  ASSERT_FALSE(dump.empty());
  Backup("certctl-old.dump", 40 * kDay, dump);
  Backup("certctl-new.dump", hours(2), dump);
  Backup("notes.txt", hours(1), "not a backup");  // ignored: not a dump's name
  EXPECT_EQ(StatusOf("database_backup_age"), DrStatus::kOk);
  EXPECT_EQ(StatusOf("database_backup_retention"), DrStatus::kOk);
  auto readable = Check("database_backup_readable");
  EXPECT_EQ(readable.status, DrStatus::kOk) << readable.message;
  EXPECT_NE(readable.message.find("certctl-new.dump"), std::string::npos);

  Backup("certctl-new.dump", hours(30));
  EXPECT_EQ(StatusOf("database_backup_age"), DrStatus::kWarning);
  Backup("certctl-new.dump", hours(60));
  EXPECT_EQ(StatusOf("database_backup_age"), DrStatus::kCritical);

  // Only 10 days kept.
  Backup("certctl-old.dump", 10 * kDay);
  EXPECT_EQ(StatusOf("database_backup_retention"), DrStatus::kWarning);

  // The newest cut off: pg_restore refuses it.
  Backup("certctl-cut.dump", hours(1), dump.substr(0, dump.size() / 3));
  auto cut = Check("database_backup_readable");
  EXPECT_EQ(cut.status, DrStatus::kCritical);
  EXPECT_NE(cut.message.find("certctl-cut.dump"), std::string::npos) << cut.message;
  // A plain dump without pg_dump's last line, then with it.
  Backup("certctl-plain.sql", hours(0), "--\n-- PostgreSQL database dump\n--\n");
  EXPECT_EQ(StatusOf("database_backup_readable"), DrStatus::kCritical);
  Backup("certctl-plain.sql", hours(0),
         "--\n-- PostgreSQL database dump\n--\n\n--\n-- PostgreSQL database dump "
         "complete\n--\n");
  EXPECT_EQ(StatusOf("database_backup_readable"), DrStatus::kOk);
}

TEST_F(DrCheckTest, CaNotAfter) {
  EXPECT_EQ(StatusOf("ca_not_after"), DrStatus::kOk);
  RegisterIssuer("iss-200d", 200 * kDay);
  auto warning = Check("ca_not_after");
  EXPECT_EQ(warning.status, DrStatus::kWarning);
  EXPECT_NE(warning.message.find("iss-200d/g1"), std::string::npos) << warning.message;
  EXPECT_EQ(warning.fix, "certctl-admin ca rotate iss-200d");
  RegisterIssuer("iss-30d", 30 * kDay);
  auto critical = Check("ca_not_after");
  EXPECT_EQ(critical.status, DrStatus::kCritical);
  EXPECT_EQ(critical.message.rfind("iss-30d/g1", 0), 0u)
      << critical.message;  // worst first
  EXPECT_EQ(critical.fix, "certctl-admin ca rotate iss-30d");
}

TEST_F(DrCheckTest, ResponderRotationAndExpiry) {
  EXPECT_EQ(StatusOf("responder_rotated"), DrStatus::kWarning);  // none yet
  Ensure();
  EXPECT_EQ(StatusOf("responder_rotated"), DrStatus::kOk);
  EXPECT_EQ(StatusOf("responder_expiry"), DrStatus::kOk);
  // Valid 30 days (the default): 10 days left, then 5.
  clock_.Advance(20 * kDay);
  EXPECT_EQ(StatusOf("responder_expiry"), DrStatus::kWarning);
  clock_.Advance(5 * kDay);
  auto expiring = Check("responder_expiry");
  EXPECT_EQ(expiring.status, DrStatus::kCritical);
  EXPECT_EQ(expiring.fix, "certctl-admin ocsp reset-responder iss-local");
  // Not rotated for a quarter, then for two.
  clock_.Advance(75 * kDay);
  EXPECT_EQ(StatusOf("responder_rotated"), DrStatus::kWarning);
  clock_.Advance(90 * kDay);
  EXPECT_EQ(StatusOf("responder_rotated"), DrStatus::kCritical);
}

TEST_F(DrCheckTest, RestoreChecksAndDrillsFromTheAuditLog) {
  auto never = Check("restore_check");
  EXPECT_EQ(never.status, DrStatus::kCritical);
  EXPECT_NE(never.message.find("db.restore-check"), std::string::npos);
  EXPECT_EQ(StatusOf("dr_drill"), DrStatus::kCritical);
  Audit("db.restore-check");
  Audit("dr.drill");
  EXPECT_EQ(StatusOf("restore_check"), DrStatus::kOk);
  EXPECT_EQ(StatusOf("dr_drill"), DrStatus::kOk);
  clock_.Advance(100 * kDay);
  EXPECT_EQ(StatusOf("restore_check"), DrStatus::kWarning);
  EXPECT_EQ(StatusOf("dr_drill"), DrStatus::kOk);
  clock_.Advance(30 * kDay);
  EXPECT_EQ(StatusOf("restore_check"), DrStatus::kCritical);
  clock_.Advance(270 * kDay);
  EXPECT_EQ(StatusOf("dr_drill"), DrStatus::kCritical);
}

TEST_F(DrCheckTest, CaMaterialBackups) {
  Ensure();
  auto none = Check("ca_backup");
  EXPECT_EQ(none.status, DrStatus::kCritical);
  EXPECT_NE(none.fix.find("certctl-admin ca backup iss-local"), std::string::npos);
  EXPECT_EQ(StatusOf("responder_keys_backup"), DrStatus::kWarning);
  EXPECT_EQ(StatusOf("trust_anchors_backup"), DrStatus::kOk);  // none configured

  std::string bundle = *dir_ / "est.pem";
  ASSERT_TRUE(WriteFileAtomic(bundle, *ReadFile(ca_cert_path_), {.mode = 0644}).ok());
  config_.trust_anchors = {{"est", bundle}};
  BackUpCa("backup-1");
  EXPECT_EQ(StatusOf("ca_backup"), DrStatus::kOk);
  EXPECT_EQ(StatusOf("responder_keys_backup"), DrStatus::kOk);
  EXPECT_EQ(StatusOf("trust_anchors_backup"), DrStatus::kOk);

  // The bundle changes, the responder is replaced: the backup is behind.
  auto other = NewCa("other-anchor", 365 * kDay);
  ASSERT_TRUE(WriteFileAtomic(bundle, other.cert_pem, {.mode = 0644}).ok());
  EXPECT_EQ(StatusOf("trust_anchors_backup"), DrStatus::kWarning);
  auto ctx = Context();
  ops::OpReport report;
  ASSERT_TRUE(ops::ResetOcspResponder(ctx, kLocalIssuerId, false, report).ok());
  auto behind = Check("responder_keys_backup");
  EXPECT_EQ(behind.status, DrStatus::kWarning);
  EXPECT_NE(behind.message.find("newer than backup"), std::string::npos)
      << behind.message;

  // A backup moved offsite: its manifest cannot be read here.
  std::filesystem::remove_all(*dir_ / "backup-1");
  EXPECT_EQ(StatusOf("responder_keys_backup"), DrStatus::kUnknown);
  EXPECT_EQ(StatusOf("ca_backup"), DrStatus::kOk);  // the record is what counts
}

TEST_F(DrCheckTest, CrlsFresh) {
  auto missing = Check("crl_fresh");
  EXPECT_EQ(missing.status, DrStatus::kCritical);
  EXPECT_NE(missing.message.find("iss-local/g1: missing"), std::string::npos)
      << missing.message;
  auto ctx = Context();
  ops::OpReport report;
  ASSERT_TRUE(
      ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, report).ok());
  EXPECT_EQ(StatusOf("crl_fresh"), DrStatus::kOk);
  clock_.Advance(5 * kDay);  // valid 7 days: 2 left
  EXPECT_EQ(StatusOf("crl_fresh"), DrStatus::kWarning);
}

TEST_F(DrCheckTest, OcspCacheConsistency) {
  EXPECT_EQ(StatusOf("ocsp_cache"), DrStatus::kOk);
  auto issued = Issue("good.example");
  ops::OcspService ocsp(Context());
  ASSERT_TRUE(ocsp.RespondForSerial(kLocalIssuerId, issued.serial).ok());
  ASSERT_EQ(Count("ocsp_response_cache"), 1);
  EXPECT_EQ(StatusOf("ocsp_cache"), DrStatus::kOk);
  // Past the cached answer's nextUpdate (valid 4 days): stale, a warning.
  clock_.Advance(5 * kDay);
  EXPECT_EQ(StatusOf("ocsp_cache"), DrStatus::kWarning);
  clock_.Set(std::chrono::system_clock::now());
  // A revocation written behind the cache's back: "good" for a revoked
  // certificate is critical.
  Sql(url_,
      "INSERT INTO certificate_revocations (issuer_id, serial, generation, reason, "
      "revoked_by) VALUES ('iss-local', '" +
          issued.serial + "', 1, 1, 'test')");
  auto stale = Check("ocsp_cache");
  EXPECT_EQ(stale.status, DrStatus::kCritical) << stale.message;
  EXPECT_EQ(stale.fix, "certctl-admin cache verify --fix");
}

TEST_F(DrCheckTest, OperationLocksHeldByAProcessThatIsGone) {
  EXPECT_EQ(StatusOf("operation_locks"), DrStatus::kOk);
  // Held for another host: cannot be seen to be gone.
  auto elsewhere =
      OperationLock::Acquire(db(), "crl:iss-local", {"certctld", "host-a", 4242});
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_EQ(StatusOf("operation_locks"), DrStatus::kOk);
  clock_.Advance(hours(2));
  EXPECT_EQ(StatusOf("operation_locks"), DrStatus::kWarning);
  clock_.Set(std::chrono::system_clock::now());
  elsewhere->reset();
  // Held for a process of this host that has exited.
  auto exited = RunProcess({"/bin/sh", "-c", "echo $$"});
  ASSERT_TRUE(exited.ok());
  int dead_pid = std::stoi(exited->output);
  auto orphan = OperationLock::Acquire(db(), "ca:iss-local",
                                       {"certctl-admin ca rotate", HostName(), dead_pid});
  ASSERT_TRUE(orphan.ok());
  auto gone = Check("operation_locks");
  EXPECT_EQ(gone.status, DrStatus::kCritical);
  EXPECT_NE(gone.message.find("ca:iss-local"), std::string::npos) << gone.message;
  EXPECT_NE(gone.fix.find("pg_terminate_backend"), std::string::npos) << gone.fix;
}

TEST_F(DrCheckTest, SecretsAgeFromSaltedFingerprints) {
  config_.api_keys = {{"default", ApiRole::kAdmin, Sha256Hex("first-api-key")}};
  config_.agent_bootstrap_token = SecretString("bootstrap-token-1");
  // First sight: when it was set is unknown.
  EXPECT_EQ(StatusOf("api_keys_age"), DrStatus::kUnknown);
  EXPECT_EQ(StatusOf("bootstrap_token_age"), DrStatus::kUnknown);
  // The key changes: its age is known from now.
  config_.api_keys[0].key_sha256 = Sha256Hex("second-api-key");
  auto changed = Check("api_keys_age");
  EXPECT_EQ(changed.status, DrStatus::kOk);
  EXPECT_NE(changed.message.find("API key default changed on"), std::string::npos)
      << changed.message;
  clock_.Advance(340 * kDay);
  EXPECT_EQ(StatusOf("api_keys_age"), DrStatus::kWarning);
  clock_.Advance(30 * kDay);
  EXPECT_EQ(StatusOf("api_keys_age"), DrStatus::kCritical);
  // Seen unchanged for longer than a year: critical, whenever it was set.
  EXPECT_EQ(StatusOf("bootstrap_token_age"), DrStatus::kCritical);
  // Never the secret in the audit log: only salted fingerprints.
  std::string params = Sql(url_,
                           "SELECT parameters::text FROM audit_events WHERE action = "
                           "'dr.check' ORDER BY id DESC LIMIT 1");
  EXPECT_EQ(params.find("bootstrap-token-1"), std::string::npos) << params;
  EXPECT_EQ(params.find(Sha256Hex("second-api-key")), std::string::npos) << params;
  EXPECT_NE(params.find("\"fingerprint\""), std::string::npos) << params;
}

TEST_F(DrCheckTest, AProfileRunsItsChecksAndTheRunIsAudited) {
  auto run = Run(ops::DrProfile::kQuarterly);
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  std::string names;
  for (const auto& c : run->checks) names += c.name + ",";
  EXPECT_EQ(names, "restore_check,ca_not_after,responder_rotated,");
  EXPECT_EQ(run->worst, DrStatus::kCritical);  // no restore check ever
  EXPECT_TRUE(run->recorded);
  EXPECT_FALSE(run.has_errors());
  EXPECT_EQ(Sql(url_,
                "SELECT target || ' ' || outcome || ' ' || (parameters->'checks'->>"
                "'restore_check') FROM audit_events WHERE action = 'dr.check'"),
            "quarterly succeeded critical");
  EXPECT_EQ(Run(ops::DrProfile::kAll)->checks.size(), ops::DrChecks().size());
}

TEST_F(DrCheckTest, ThresholdsFromYaml) {
  std::string file = *dir_ / "thresholds.yaml";
  ASSERT_TRUE(WriteFileAtomic(file,
                              "backup_dir: /srv/backups\n"
                              "database_backup_warning: 2d\n"
                              "database_backup_critical: 3d\n",
                              {.mode = 0644})
                  .ok());
  auto t = ops::LoadDrThresholds(file);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->backup_dir, "/srv/backups");
  EXPECT_EQ(t->database_backup_warning, 2 * kDay);
  EXPECT_EQ(t->database_backup_critical, 3 * kDay);
  EXPECT_EQ(t->drill_warning, ops::DrThresholds{}.drill_warning);  // default kept

  const std::pair<std::string, std::string> bad[] = {
      {"backup_age: 1d\n", "unknown key backup_age"},
      {"drill_warning: soon\n", "drill_warning"},
      {"secret_warning: 400d\n", "secret_warning must be shorter than secret_critical"},
      {"- a\n- b\n", "expected a YAML mapping"},
      {"drill_warning: [1d\n", "error at line"},  // not YAML at all
  };
  for (const auto& [text, expected] : bad) {
    ASSERT_TRUE(
        WriteFileAtomic(file, text, {.mode = 0644, .allow_overwrite = true}).ok());
    auto r = ops::LoadDrThresholds(file);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(r.status().message().find(expected), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find(file), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(ops::LoadDrThresholds(*dir_ / "none.yaml").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace certctl
