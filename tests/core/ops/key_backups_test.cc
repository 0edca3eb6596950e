// Old responder key backups are removed after key_backup_retention, and
// nothing else is: not a younger backup, not another program's file, not a
// symlink, not a key a row names (core/src/ops/key_backups.cc, issue 12).
#include <gtest/gtest.h>

#include <filesystem>

#include "certctl/ops/key_files.h"
#include "certctl/util/files.h"
#include "ops/ocsp_test_helpers.h"

namespace certctl {
namespace {

using testing::OpRun;
using testing::Sql;

namespace fs = std::filesystem;

class KeyBackupsTest : public testing::OcspFixture {
 protected:
  void SetUp() override {
    OcspFixture::SetUp();
    if (HasFatalFailure()) return;
    dir_path_ = config_.ocsp_responder_key_dir;
    ASSERT_TRUE(EnsureDirectory(dir_path_, 0700).ok());
  }
  // A file named `name` in the key directory.
  std::string Plant(const std::string& name) {
    std::string path = dir_path_ + "/" + name;
    EXPECT_TRUE(
        WriteFileAtomic(path, "key\n", {.mode = 0600, .keep_backup = false}).ok());
    return path;
  }
  Result<ops::KeyBackupsPruned> Prune(ops::PruneTrigger trigger, bool dry_run,
                                      OpRun<ops::KeyBackupsPruned>& run) {
    ops::OpContext c = Context(dry_run);
    ops::OpContext ctx{c.db, c.config, clock_, c.logger, c.keyring, c.actor};
    ctx.dry_run = dry_run;
    run.result = ops::PruneKeyBackups(ctx, trigger, run);
    return run.result;
  }
  std::string Audited() {
    return Sql(url_,
               "SELECT coalesce(string_agg(outcome, ',' ORDER BY id), '') FROM "
               "audit_events WHERE action = 'ocsp.prune-backups'");
  }

  // 2026-03-01T00:00:00Z: the stamps below are 45 and 10 days before.
  FakeClock clock_{std::chrono::system_clock::from_time_t(1772323200)};
  std::string dir_path_;
};

TEST_F(KeyBackupsTest, RemovesOnlyItsOwnBackupsPastTheRetention) {
  std::string old = Plant("iss-local-g1-0a1b.key.bak-20260115T000000Z");
  std::string old_scheme = Plant("iss-local-g1.key.bak-20260115T120000Z-1");
  std::string young = Plant("iss-local-g1-0c2d.key.bak-20260219T000000Z");
  std::string live = Plant("iss-local-g1-0e3f.key");
  std::string foreign = Plant("notes.txt.bak-20200101T000000Z");
  std::string ca_backup = Plant("ca.key.bak-20200101T000000Z");
  std::string not_a_stamp = Plant("iss-local-g1-0a1b.key.bak-yesterday");
  std::string target = Plant("elsewhere");
  std::string link = dir_path_ + "/iss-local-g2-0a.key.bak-20200101T000000Z";
  fs::create_symlink(target, link);
  // An old backup that a responder row names as its key is never removed.
  std::string named = Plant("iss-local-g1-0f.key.bak-20200101T000000Z");
  Sql(url_,
      "INSERT INTO ocsp_responder_cert_history (issuer_id, generation, serial_number, "
      "cert_subject, cert_pem, not_before, not_after, key_path, created_at, replaced_at, "
      "replaced_reason) VALUES ('iss-local', 1, '0f', 'x', 'x', now(), now(), '" +
          named + "', now(), now(), 'test')");

  // A dry run plans and removes nothing.
  OpRun<ops::KeyBackupsPruned> dry;
  ASSERT_TRUE(Prune(ops::PruneTrigger::kCommand, true, dry).ok())
      << dry.status().ToString();
  ASSERT_EQ(dry->removed.size(), 2u);
  EXPECT_EQ(dry->removed[0].path, old);
  EXPECT_EQ(dry->removed[1].path, old_scheme);
  EXPECT_EQ(dry.plan.size(), 2u);
  EXPECT_TRUE(fs::exists(old));
  EXPECT_EQ(Audited(), "");

  OpRun<ops::KeyBackupsPruned> run;
  ASSERT_TRUE(Prune(ops::PruneTrigger::kCommand, false, run).ok())
      << run.status().ToString();
  EXPECT_EQ(run->removed.size(), 2u);
  EXPECT_FALSE(fs::exists(old));
  EXPECT_FALSE(fs::exists(old_scheme));
  for (const auto& kept : {young, live, foreign, ca_backup, not_a_stamp, target, named}) {
    EXPECT_TRUE(fs::exists(kept)) << kept;
  }
  EXPECT_TRUE(fs::is_symlink(link));
  ASSERT_EQ(run->kept.size(), 1u);
  EXPECT_EQ(run->kept[0].path, young);
  EXPECT_EQ(run->named, std::vector<std::string>{named});
  ASSERT_EQ(run.findings.size(), 1u);
  EXPECT_EQ(run.findings[0].code, "keys.backup_named");
  EXPECT_EQ(run.findings[0].severity, "warning");
  EXPECT_EQ(Audited(), "started,succeeded");

  // The young one goes once it is past the retention too.
  clock_.Advance(std::chrono::hours(24 * 21));
  OpRun<ops::KeyBackupsPruned> later;
  ASSERT_TRUE(Prune(ops::PruneTrigger::kScheduled, false, later).ok());
  EXPECT_FALSE(fs::exists(young));
  EXPECT_EQ(Audited(), "started,succeeded,started,succeeded");
}

// certctld's upkeep writes an audit event only when it removes something; a
// command always does.
TEST_F(KeyBackupsTest, UpkeepWithNothingDueIsNotAudited) {
  Plant("iss-local-g1-0c2d.key.bak-20260219T000000Z");
  OpRun<ops::KeyBackupsPruned> upkeep;
  ASSERT_TRUE(Prune(ops::PruneTrigger::kScheduled, false, upkeep).ok());
  EXPECT_TRUE(upkeep->removed.empty());
  EXPECT_EQ(Audited(), "");
  OpRun<ops::KeyBackupsPruned> command;
  ASSERT_TRUE(Prune(ops::PruneTrigger::kCommand, false, command).ok());
  EXPECT_EQ(Audited(), "started,succeeded");
}

// A missing key directory has nothing to prune.
TEST_F(KeyBackupsTest, NoKeyDirectoryIsNothingToDo) {
  fs::remove_all(dir_path_);
  OpRun<ops::KeyBackupsPruned> run;
  ASSERT_TRUE(Prune(ops::PruneTrigger::kCommand, false, run).ok())
      << run.status().ToString();
  EXPECT_TRUE(run->removed.empty());
}

}  // namespace
}  // namespace certctl
