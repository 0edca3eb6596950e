// certctl-admin dr drill, the real binary starting the real certctld on a
// real pg_dump of a populated database: every step passes, the drill is in
// the audit log where `dr check` and `dr report` find it, and nothing is left
// behind (no scratch database, no certctld, no scratch directory; the live
// database and every live key file unchanged). Also the failures: a dump that
// does not restore, a CA key that is not the dump's, SIGTERM mid-drill.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <filesystem>

#include "certctl/ops/crl_ops.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/ca.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "cmd/admin_fixture.h"
#include "store/local_cluster.h"

namespace certctl {
namespace {

namespace fs = std::filesystem;

class DrDrillTest : public testing::AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    if (HasFatalFailure()) return;
    backups_ = std::make_unique<testing::TempDir>();
    tmp_ = std::make_unique<testing::TempDir>();
  }

  // A working installation: certificates (one revoked), a CRL, a responder.
  void Populate() {
    for (const char* cn : {"a.example", "b.example", "c.example"}) {
      serials_.push_back(Issue(cn).serial);
    }
    Revoke(serials_[0], "keyCompromise");
    auto ctx = Context();
    ops::OpReport crl, responder;
    ASSERT_TRUE(
        ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, crl).ok());
    ASSERT_TRUE(ops::EnsureOcspResponder(ctx, kLocalIssuerId, 1, responder).ok());
  }

  // pg_dump -Fc of the live database into the backup directory.
  std::string Dump(const std::string& name) {
    auto bin = FindPostgresBinDir();
    EXPECT_TRUE(bin.ok());
    std::string path = backups_->path() + "/" + name;
    auto r = RunProcess(
        {*bin + "/pg_dump", "--format=custom", "--file=" + path, "--dbname=" + url_});
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->output : "not run");
    return path;
  }

  // The drill's scratch directory goes under tmp_ (TMPDIR).
  testing::AdminRun Drill(std::vector<std::string> args,
                          std::vector<std::string> env = {}) {
    args.insert(args.begin(), {"-o", "json", "dr", "drill"});
    env.push_back("TMPDIR=" + tmp_->path());
    return Admin(args, env);
  }

  std::string Databases() {
    return testing::Sql(url_,
                        "SELECT string_agg(datname, ',' ORDER BY datname) FROM "
                        "pg_database");
  }

  std::vector<std::string> TmpEntries() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(tmp_->path())) {
      out.push_back(e.path().string());
    }
    return out;
  }

  static bool ProcessGone(int pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

  // Everything but the audit log (the drill's events), the anchor that
  // follows its head, and the drill's own lock record (operation_locks keeps
  // a row per lock name taken): every other lock record is compared.
  std::map<std::string, std::string> LiveState() {
    auto s = Snapshot();
    s.erase("table audit_events");
    s.erase("file " + config_.audit_anchor_file);
    s.erase("table operation_locks");
    s["other lock records"] = testing::Sql(
        url_,
        "SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY "
        "x::text)), '') FROM operation_locks x WHERE name <> 'dr:drill'");
    return s;
  }

  static std::string StepOutcomes(const nlohmann::json& data) {
    std::string out;
    for (const auto& s : data["steps"]) {
      out += (out.empty() ? "" : ",") + s["name"].get<std::string>() + ":" +
             s["outcome"].get<std::string>();
    }
    return out;
  }

  std::string DrillCheck() {
    auto check = Admin({"-o", "json", "dr", "check", "--profile", "annual"});
    for (const auto& c : check.json["data"]["checks"]) {
      if (c["name"] == "dr_drill") return c["status"];
    }
    return "absent: " + check.Both();
  }

  std::unique_ptr<testing::TempDir> backups_, tmp_;
  std::vector<std::string> serials_;
};

TEST_F(DrDrillTest, TheNewestBackupIsDrilledEndToEndAndNothingIsLeftBehind) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string old_dump = Dump("certctl-old.dump");
  std::string dump = Dump("certctl-new.dump");
  // The older file is older: the drill takes the newest by modification time.
  auto old_time = fs::last_write_time(dump) - std::chrono::hours(24);
  fs::last_write_time(old_dump, old_time);
  EXPECT_EQ(DrillCheck(), "critical");  // no drill yet
  std::string databases = Databases();
  auto before = LiveState();

  auto run = Drill({"--backup-dir", backups_->path()});
  ASSERT_EQ(run.exit_code, 0) << run.Both();
  const auto& d = run.json["data"];
  EXPECT_EQ(d["passed"], true);
  EXPECT_EQ(StepOutcomes(d),
            "restore:passed,migrate:passed,material:passed,start:passed,issue:passed,"
            "revoke:passed,crl:passed,ocsp:passed,stop:passed,cleanup:passed")
      << run.out;
  // What was restored, as evidence.
  EXPECT_EQ(d["dump"]["path"], dump);
  EXPECT_EQ(d["dump"]["format"], "custom");
  EXPECT_EQ(d["dump"]["bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(dump)));
  auto bytes = ReadFile(dump);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(d["dump"]["sha256"], Sha256Hex(*bytes));
  EXPECT_GE(d["dump"]["schema_version"].get<int>(), 7);
  EXPECT_EQ(d["dump"]["rows"]["certificates"], 3);
  EXPECT_EQ(d["dump"]["rows"]["certificate_revocations"], 1);
  // The test certificate, revoked, as the scratch certctld said.
  EXPECT_EQ(d["certificate"]["issuer"], kLocalIssuerId);
  EXPECT_EQ(d["certificate"]["ocsp_status"], "revoked");
  EXPECT_GT(d["certificate"]["crl_number"].get<int64_t>(), 0);
  for (const auto& s : d["steps"]) EXPECT_GE(s["duration_ms"].get<int64_t>(), 0) << s;

  // Nothing left behind: no database, no process, no file; the live database
  // and every file of the installation (CA key, responder keys, published
  // CRL records) byte for byte as they were.
  EXPECT_EQ(Databases(), databases);
  int pid = d["scratch"]["certctld_pid"];
  EXPECT_GT(pid, 0);
  EXPECT_TRUE(ProcessGone(pid)) << pid;
  EXPECT_FALSE(fs::exists(d["scratch"]["directory"].get<std::string>()));
  EXPECT_EQ(TmpEntries(), std::vector<std::string>{});
  EXPECT_EQ(LiveState(), before);
  EXPECT_EQ(testing::Sql(url_, "SELECT count(*) FROM certificates"), "3");

  // The evidence: an audit event dr check and dr report read.
  EXPECT_EQ(AuditOutcomes("dr.drill"), "started,succeeded");
  EXPECT_EQ(DrillCheck(), "ok");
  auto report = Admin({"-o", "json", "dr", "report", "--since", "1d"});
  ASSERT_EQ(report.exit_code, 0) << report.Both();
  for (const auto& s : report.json["data"]["sections"]) {
    if (s["name"] != "drills") continue;
    ASSERT_EQ(s["events"].size(), 1u) << s;
    EXPECT_EQ(s["events"][0]["outcome"], "succeeded");
    EXPECT_EQ(s["events"][0]["target"], dump);
  }
  EXPECT_EQ(Admin({"audit", "verify"}).exit_code, 0);
}

TEST_F(DrDrillTest, ATruncatedDumpFailsClearlyAndLeavesNothingBehind) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("certctl.dump");
  auto bytes = ReadFile(dump);
  ASSERT_TRUE(bytes.ok());
  std::string broken = backups_->path() + "/broken.dump";
  ASSERT_TRUE(WriteFileAtomic(broken, bytes->substr(0, bytes->size() / 2)).ok());
  std::string databases = Databases();
  auto before = LiveState();

  auto run = Drill({"--dump", broken});
  EXPECT_EQ(run.exit_code, 1) << run.Both();
  const auto& d = run.json["data"];
  EXPECT_EQ(d["passed"], false);
  EXPECT_EQ(StepOutcomes(d),
            "restore:failed,migrate:skipped,material:skipped,start:skipped,issue:skipped,"
            "revoke:skipped,crl:skipped,ocsp:skipped,stop:passed,cleanup:passed");
  ASSERT_EQ(run.json["findings"].size(), 1u) << run.out;
  EXPECT_EQ(run.json["findings"][0]["code"], "dr.drill_failed");
  EXPECT_NE(run.json["findings"][0]["message"].get<std::string>().find("pg_restore"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(Databases(), databases);
  EXPECT_EQ(TmpEntries(), std::vector<std::string>{});
  EXPECT_EQ(LiveState(), before);
  EXPECT_EQ(AuditOutcomes("dr.drill"), "started,failed");
  EXPECT_EQ(DrillCheck(), "critical");  // a failed drill is no evidence
}

TEST_F(DrDrillTest, ACaKeyThatIsNotTheDumpsStopsTheScratchCertctld) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("certctl.dump");
  // The configured CA pair is another CA: certctld refuses to start on it.
  auto other =
      CreateSelfSignedCa({.common_name = "Another CA"}, std::chrono::system_clock::now());
  ASSERT_TRUE(other.ok());
  std::string cert = backups_->path() + "/other.crt",
              key = backups_->path() + "/other.key";
  ASSERT_TRUE(WriteCaFiles(*other, cert, key).ok());
  std::string databases = Databases();
  auto before = LiveState();

  auto run = Drill({"--dump", dump},
                   {"CERTCTL_CA_CERT_PATH=" + cert, "CERTCTL_CA_KEY_PATH=" + key});
  EXPECT_EQ(run.exit_code, 1) << run.Both();
  const auto& d = run.json["data"];
  EXPECT_EQ(StepOutcomes(d),
            "restore:passed,migrate:passed,material:passed,start:failed,issue:skipped,"
            "revoke:skipped,crl:skipped,ocsp:skipped,stop:passed,cleanup:passed");
  std::string why = run.json["findings"][0]["message"];
  EXPECT_NE(why.find("exited"), std::string::npos) << why;
  int pid = d["scratch"]["certctld_pid"];
  EXPECT_GT(pid, 0);
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_EQ(Databases(), databases);
  EXPECT_EQ(TmpEntries(), std::vector<std::string>{});
  EXPECT_EQ(LiveState(), before);
  EXPECT_EQ(AuditOutcomes("dr.drill"), "started,failed");
}

TEST_F(DrDrillTest, SigtermMidDrillCleansUpAndRecordsAFailure) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("certctl.dump");
  std::string databases = Databases();
  auto env = Environment();
  env["TMPDIR"] = tmp_->path();
  e2e::BackgroundProcess admin({CERTCTL_ADMIN_PATH, "--config", empty_config_, "-o",
                                "json", "dr", "drill", "--dump", dump},
                               env, backups_->path() + "/admin.log");
  ASSERT_TRUE(admin.Start().ok());
  // Once the scratch certctld runs (its log exists), the drill is mid-way.
  bool started = testing::Eventually([&] {
    for (const auto& e : TmpEntries()) {
      if (fs::exists(e + "/certctld.log")) return true;
    }
    return false;
  });
  ASSERT_TRUE(started) << admin.Log();
  admin.Signal(SIGTERM);
  EXPECT_EQ(admin.Wait(std::chrono::seconds(60)), 128 + SIGTERM) << admin.Log();
  EXPECT_EQ(Databases(), databases) << admin.Log();
  EXPECT_EQ(TmpEntries(), std::vector<std::string>{});
  auto log = admin.Log();
  auto json = nlohmann::json::parse(log.substr(0, log.rfind('}') + 1), nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << log;
  int pid = json["data"]["scratch"]["certctld_pid"];
  EXPECT_GT(pid, 0) << log;
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_NE(log.find("interrupted by SIGTERM"), std::string::npos) << log;
  EXPECT_EQ(AuditOutcomes("dr.drill"), "started,failed");
}

TEST_F(DrDrillTest, DryRunPlansAndBadInputIsUsage) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("certctl.dump");
  std::string databases = Databases();
  auto before = Snapshot();
  auto plan = Drill({"--backup-dir", backups_->path(), "--dry-run"});
  EXPECT_EQ(plan.exit_code, 0) << plan.Both();
  ASSERT_EQ(plan.json["plan"].size(), 5u) << plan.out;
  EXPECT_NE(plan.json["plan"][0].get<std::string>().find(dump), std::string::npos);
  EXPECT_EQ(Databases(), databases);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(TmpEntries(), std::vector<std::string>{});

  EXPECT_EQ(Drill({}).exit_code, 2);  // neither --dump nor a backup directory
  EXPECT_EQ(Drill({"--dump", backups_->path() + "/missing.dump"}).exit_code, 2);
  std::string empty = backups_->path() + "/empty";
  fs::create_directory(empty);
  EXPECT_EQ(Drill({"--backup-dir", empty}).exit_code, 2);
  ASSERT_TRUE(WriteFileAtomic(backups_->path() + "/notes.dump", "not a dump\n").ok());
  EXPECT_EQ(Drill({"--dump", backups_->path() + "/notes.dump"}).exit_code, 2);
  auto live = Drill({"--dump", dump, "--scratch-url", url_});
  EXPECT_EQ(live.exit_code, 2) << live.Both();
  EXPECT_EQ(Drill({"--dump", dump}, {"CERTCTL_AUDIT_KEY="}).exit_code, 78);
  EXPECT_EQ(Drill({"--dump", dump, "--certctld", "/nonexistent/certctld"}).exit_code, 78);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Databases(), databases);
  EXPECT_EQ(AuditOutcomes("dr.drill"), "");
}

}  // namespace
}  // namespace certctl
