// certctl-admin ca status and ca backup, run as the real binary: exit codes,
// JSON, text, the thresholds from flags and configuration, and a backup
// written, refused, verified and found changed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "certctl/ops/crl_ops.h"
#include "certctl/ops/ocsp_ops.h"
#include "cmd/admin_fixture.h"

namespace certctl {
namespace {

class CaCommandTest : public testing::AdminTest {
 protected:
  // A CRL and a responder, as certctld's schedulers make them.
  void Serve() {
    auto ctx = Context();
    ops::OpReport crl, responder;
    ASSERT_TRUE(
        ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, crl).ok());
    ASSERT_TRUE(ops::EnsureOcspResponder(ctx, kLocalIssuerId, 1, responder).ok());
  }

  static std::vector<std::string> Codes(const nlohmann::json& document) {
    std::vector<std::string> out;
    for (const auto& f : document["findings"]) out.push_back(f["code"]);
    return out;
  }
};

TEST_F(CaCommandTest, StatusReportsAndExitsOnErrorsOnly) {
  // Nothing served yet: the CRL and responder findings are errors.
  EXPECT_EQ(Admin({"ca", "status", "iss-local"}).exit_code, 1);
  Serve();
  ASSERT_FALSE(HasFatalFailure());
  auto json = Admin({"-o", "json", "ca", "status", "iss-local"});
  EXPECT_EQ(json.exit_code, 0) << json.Both();  // the missing backup is a warning
  EXPECT_EQ(json.json["operation"], "ca.status");
  EXPECT_EQ(testing::Keys(json.json["data"]), "issuers,thresholds");
  EXPECT_EQ(Codes(json.json), std::vector<std::string>{"ca.backup_missing"});
  const auto& g = json.json["data"]["issuers"][0]["generations"][0];
  EXPECT_EQ(g["key_file"]["path"], ca_key_path_);
  EXPECT_EQ(g["key_file"]["mode"], "0600");
  EXPECT_EQ(g["responder"]["verdict"], "ok");
  EXPECT_EQ(g["crl"]["verdict"], "ok");
  EXPECT_TRUE(json.err.empty()) << json.err;

  auto text = Admin({"ca", "status"});  // every issuer by default
  EXPECT_EQ(text.exit_code, 0) << text.Both();
  for (const char* part : {"iss-local generation 1: active", "key file:", "(0600, owner",
                           "matches the certificate", "backup:", "none recorded",
                           "warning: iss-local/g1:", "[ca.backup_missing]"}) {
    EXPECT_NE(text.out.find(part), std::string::npos) << part << "\n" << text.out;
  }
}

TEST_F(CaCommandTest, ThresholdsComeFromFlagsOrConfiguration) {
  Serve();
  ASSERT_FALSE(HasFatalFailure());
  // The test CA has ten years: under an 11-year threshold it is critical.
  auto flags = Admin({"-o", "json", "ca", "status", "iss-local", "--warning-within",
                      "4100d", "--critical-within", "4000d"});
  EXPECT_EQ(flags.exit_code, 1) << flags.Both();
  EXPECT_EQ(Codes(flags.json),
            (std::vector<std::string>{"ca.expiring_critical", "ca.backup_missing"}));
  EXPECT_EQ(flags.json["data"]["thresholds"]["critical"], "4000d");
  auto warned = Admin({"ca", "status", "iss-local", "--warning-within", "4000d"});
  EXPECT_EQ(warned.exit_code, 0) << warned.Both();
  EXPECT_NE(warned.out.find("[ca.expiring]"), std::string::npos) << warned.out;

  auto configured =
      Admin({"-o", "json", "ca", "status", "iss-local"},
            {"CERTCTL_CA_EXPIRY_WARNING=4100d", "CERTCTL_CA_EXPIRY_CRITICAL=4000d"});
  EXPECT_EQ(configured.exit_code, 1) << configured.Both();
  EXPECT_EQ(configured.json["data"]["thresholds"]["warning"], "4100d");

  // Bad values: usage (2) as flags, configuration (78) as settings.
  EXPECT_EQ(Admin({"ca", "status", "--critical-within", "soon"}).exit_code, 2);
  EXPECT_EQ(Admin({"ca", "status", "--critical-within", "400d"}).exit_code, 2);
  auto bad = Admin({"ca", "status"}, {"CERTCTL_CA_EXPIRY_CRITICAL=400d"});
  EXPECT_EQ(bad.exit_code, 78) << bad.Both();
  EXPECT_NE(bad.err.find("ca_expiry_critical"), std::string::npos) << bad.err;
  EXPECT_EQ(Admin({"ca", "status", "iss-nope"}).exit_code, 2);
  EXPECT_EQ(Admin({"ca", "status", "iss-local", "--all"}).exit_code, 2);
}

TEST_F(CaCommandTest, BackupIsWrittenOnceAndVerified) {
  Serve();
  ASSERT_FALSE(HasFatalFailure());
  std::string target = *dir_ / "backup-1";
  auto run = Admin({"-o", "json", "ca", "backup", "iss-local", "--to", target});
  ASSERT_EQ(run.exit_code, 0) << run.Both();
  EXPECT_EQ(testing::Keys(run.json["data"]),
            "backup_id,directory,issuer,manifest,manifest_sha256");
  EXPECT_EQ(run.json["data"]["directory"], target);
  EXPECT_EQ(run.json["data"]["manifest"]["files"].size(), 4u);
  EXPECT_EQ(run.out.find("PRIVATE KEY"), std::string::npos);
  EXPECT_TRUE(run.err.empty()) << run.err;

  // Recorded: `ca status` is clean now.
  auto status = Admin({"-o", "json", "ca", "status", "iss-local"});
  EXPECT_EQ(status.exit_code, 0) << status.Both();
  EXPECT_TRUE(status.json["findings"].empty()) << status.out;
  EXPECT_EQ(status.json["data"]["issuers"][0]["generations"][0]["backup"]["directory"],
            target);

  // Never twice into one directory; usage errors.
  auto again = Admin({"ca", "backup", "iss-local", "--to", target});
  EXPECT_EQ(again.exit_code, 2) << again.Both();
  EXPECT_NE(again.err.find("not empty"), std::string::npos) << again.err;
  EXPECT_EQ(Admin({"ca", "backup", "iss-local"}).exit_code, 2);
  EXPECT_EQ(Admin({"ca", "backup", "--to", target}).exit_code, 2);
  EXPECT_EQ(Admin({"ca", "backup", "iss-nope", "--to", *dir_ / "b2"}).exit_code, 2);
  EXPECT_EQ(Admin({"ca", "backup", "--verify", target, "--dry-run"}).exit_code, 2);
  EXPECT_EQ(Admin({"ca", "backup", "iss-local", "--verify", target}).exit_code, 2);

  auto verified = Admin({"ca", "backup", "--verify", target});
  EXPECT_EQ(verified.exit_code, 0) << verified.Both();
  EXPECT_NE(verified.out.find("ok: " + target + " matches its manifest and the database"),
            std::string::npos)
      << verified.out;
  auto verified_json = Admin({"-o", "json", "ca", "backup", "--verify", target});
  EXPECT_EQ(verified_json.json["operation"], "ca.backup.verify");
  EXPECT_EQ(testing::Keys(verified_json.json["data"]),
            "created_at,directory,files,generations,issuer,manifest_sha256,"
            "recorded_backup_id");

  {
    std::ofstream f(target + "/ca-g1.crt", std::ios::app);
    f << "\n";
  }
  auto changed = Admin({"-o", "json", "ca", "backup", "--verify", target});
  EXPECT_EQ(changed.exit_code, 1) << changed.Both();
  EXPECT_EQ(Codes(changed.json), std::vector<std::string>{"ca.backup_file_changed"});
  EXPECT_EQ(Admin({"ca", "backup", "--verify", *dir_ / "nope"}).exit_code, 2);
}

TEST_F(CaCommandTest, BackupIsLockedAuditedAndPlannedInADryRun) {
  std::string target = *dir_ / "backup-2";
  auto before = Snapshot();
  auto dry =
      Admin({"-o", "json", "ca", "backup", "iss-local", "--to", target, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.Both();
  EXPECT_EQ(dry.json["dry_run"], true);
  EXPECT_FALSE(dry.json["plan"].empty());
  EXPECT_EQ(Snapshot(), before);

  auto lock = HoldLock("ca:iss-local");
  ASSERT_NE(lock, nullptr);
  auto busy = Admin({"ca", "backup", "iss-local", "--to", target});
  EXPECT_EQ(busy.exit_code, 75) << busy.Both();
  for (const char* part : {"certctld", "host-a", "pid 4242"}) {
    EXPECT_NE(busy.err.find(part), std::string::npos) << busy.err;
  }
  EXPECT_FALSE(std::filesystem::exists(target));
  lock.reset();
  EXPECT_EQ(
      Admin({"--actor", "alice", "ca", "backup", "iss-local", "--to", target}).exit_code,
      0);
  EXPECT_EQ(AuditOutcomes("ca.backup"), "started,failed,started,succeeded");
}

}  // namespace
}  // namespace certctl
