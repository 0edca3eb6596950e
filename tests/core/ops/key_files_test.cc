// Responder key files (core/src/ops/key_files.cc): a file of its own per
// responder, the scheme before it still served and retired, interrupted
// writes cleaned up, and nothing outside the generation's own files touched.
#include "certctl/ops/key_files.h"

#include <sys/stat.h>
#include <utime.h>

#include <filesystem>

#include "ops/ocsp_test_helpers.h"
#include "store/operation_lock.h"

namespace certctl {
namespace {

using testing::OpRun;
using testing::ReadBytes;
using testing::Sql;

class KeyFilesTest : public testing::OcspFixture {
 protected:
  Status Ensure(OpRun<ops::ResponderEnsured>& run) {
    auto ctx = Context();
    run.result = ops::EnsureOcspResponder(ctx, kLocalIssuerId, 1, run);
    return run.status();
  }
  // The reset's result (default: empty, after the failure is reported).
  ops::ResponderReset Reset(bool keep_key = false) {
    auto ctx = Context();
    ops::OpReport report;
    auto reset = ops::ResetOcspResponder(ctx, kLocalIssuerId, keep_key, report);
    EXPECT_TRUE(reset.ok()) << reset.status().ToString();
    return reset.ok() ? *reset : ops::ResponderReset{};
  }
  std::string Dir() const { return config_.ocsp_responder_key_dir; }
  // A file of `name` in `dir` last changed `age` ago.
  void Plant(const std::string& dir, const std::string& name, std::chrono::seconds age) {
    std::string path = dir + "/" + name;
    ASSERT_TRUE(WriteFileAtomic(path, "partial", {.keep_backup = false}).ok());
    struct utimbuf t {};
    t.actime = t.modtime = std::time(nullptr) - age.count();
    ASSERT_EQ(::utime(path.c_str(), &t), 0);
  }
  bool Exists(const std::string& path) { return std::filesystem::exists(path); }
};

TEST_F(KeyFilesTest, EveryResponderKeyGetsAFileOfItsOwn) {
  OpRun<ops::ResponderEnsured> boot;
  ASSERT_TRUE(Ensure(boot).ok()) << boot.status().ToString();
  std::string serial = Sql(url_, "SELECT serial_number FROM ocsp_responder_certs");
  std::string first = KeyPath();
  EXPECT_EQ(first, Dir() + "/iss-local-g1-" + serial + ".key");
  std::string first_key = ReadBytes(first);

  ops::ResponderReset reset = Reset();
  std::string second = KeyPath();
  EXPECT_NE(second, first);
  EXPECT_EQ(reset.key_path, second);
  // The replaced key is retired, not deleted: kept 0600 under a backup name.
  std::string backup = reset.key_backup;
  EXPECT_EQ(backup.rfind(first + ".bak-", 0), 0u) << backup;
  EXPECT_FALSE(Exists(first));
  EXPECT_EQ(ReadBytes(backup), first_key);
  EXPECT_EQ(*FileMode(backup), 0600u);
  // History still names the file each responder had.
  EXPECT_EQ(
      Sql(url_,
          "SELECT key_path FROM ocsp_responder_cert_history WHERE serial_number = '" +
              serial + "'"),
      first);
}

TEST_F(KeyFilesTest, ARowOfTheSchemeBeforeKeepsWorkingAndIsRetiredAtTheNextReset) {
  OpRun<ops::ResponderEnsured> boot;
  ASSERT_TRUE(Ensure(boot).ok());
  std::string legacy = Dir() + "/iss-local-g1.key";
  std::filesystem::rename(KeyPath(), legacy);
  Sql(url_, "UPDATE ocsp_responder_certs SET key_path = '" + legacy + "'");
  Sql(url_, "UPDATE ocsp_responder_cert_history SET key_path = '" + legacy + "'");
  std::string legacy_key = ReadBytes(legacy);

  OpRun<ops::ResponderEnsured> usable;
  ASSERT_TRUE(Ensure(usable).ok());
  EXPECT_EQ(usable->action, ops::ResponderAction::kNone);
  ops::ResponderReset reset = Reset();
  EXPECT_NE(KeyPath(), legacy);
  EXPECT_FALSE(Exists(legacy));
  EXPECT_EQ(ReadBytes(reset.key_backup), legacy_key);
}

TEST_F(KeyFilesTest, KeepKeyAfterTheRowWasDeletedKeepsTheNewestKeyInHistory) {
  OpRun<ops::ResponderEnsured> boot;
  ASSERT_TRUE(Ensure(boot).ok());
  std::string path = KeyPath(), key = ReadBytes(path);
  Sql(url_, "DELETE FROM ocsp_responder_certs");
  ops::ResponderReset reset = Reset(/*keep_key=*/true);
  EXPECT_TRUE(reset.verified);
  EXPECT_EQ(KeyPath(), path);
  EXPECT_EQ(ReadBytes(path), key);
  EXPECT_EQ(reset.key_backup, "");
}

TEST_F(KeyFilesTest, ResetRemovesInterruptedWritesOfItsOwnGenerationOnly) {
  OpRun<ops::ResponderEnsured> boot;
  ASSERT_TRUE(Ensure(boot).ok());
  std::chrono::seconds young(5), old = std::chrono::hours(1);
  Plant(Dir(), ".iss-local-g1-0a1b.key.tmp-Ab12Cd", young);     // ours, any age
  Plant(Dir(), ".iss-local-g1.key.tmp-Xy34Zw", young);          // ours, scheme before
  Plant(Dir(), ".iss-local-g1-g1-0a1b.key.tmp-Qq11Rr", young);  // issuer iss-local-g1
  Plant(Dir(), ".iss-local-g2-0a1b.key.tmp-Ww33Ee", young);     // generation 2
  Plant(Dir(), ".other.pem.tmp-Zz99Yy", old);    // stale: any certctl write
  Plant(Dir(), ".other.pem.tmp-Aa11Bb", young);  // maybe being written
  Reset();
  EXPECT_FALSE(Exists(Dir() + "/.iss-local-g1-0a1b.key.tmp-Ab12Cd"));
  EXPECT_FALSE(Exists(Dir() + "/.iss-local-g1.key.tmp-Xy34Zw"));
  EXPECT_FALSE(Exists(Dir() + "/.other.pem.tmp-Zz99Yy"));
  EXPECT_TRUE(Exists(Dir() + "/.iss-local-g1-g1-0a1b.key.tmp-Qq11Rr"));
  EXPECT_TRUE(Exists(Dir() + "/.iss-local-g2-0a1b.key.tmp-Ww33Ee"));
  EXPECT_TRUE(Exists(Dir() + "/.other.pem.tmp-Aa11Bb"));
}

// A history row naming a file outside the responder key names (edited by
// hand, or a restored copy's) never gets that file retired.
TEST_F(KeyFilesTest, OnlyResponderKeyFilesAreEverRetired) {
  OpRun<ops::ResponderEnsured> boot;
  ASSERT_TRUE(Ensure(boot).ok());
  std::string ca_key = ReadBytes(ca_key_path_);
  std::string elsewhere = Dir() + "/unrelated.key";
  ASSERT_TRUE(WriteFileAtomic(elsewhere, "not a responder key").ok());
  Sql(url_, "UPDATE ocsp_responder_certs SET key_path = '" + ca_key_path_ + "'");
  Sql(url_, "UPDATE ocsp_responder_cert_history SET key_path = '" + ca_key_path_ + "'");
  Sql(url_,
      "INSERT INTO ocsp_responder_cert_history (issuer_id, generation, serial_number, "
      "cert_subject, cert_pem, not_before, not_after, key_path, created_at, replaced_at) "
      "SELECT issuer_id, generation, 'ab', cert_subject, cert_pem, not_before, "
      "not_after, "
      "'" +
          elsewhere + "', created_at, now() FROM ocsp_responder_certs");
  Reset();
  EXPECT_EQ(ReadBytes(ca_key_path_), ca_key);
  EXPECT_TRUE(Exists(elsewhere));
}

TEST_F(KeyFilesTest, StartUpSweepTakesStaleTemporariesOfBothKeyDirectories) {
  std::string ca_dir = std::filesystem::path(ca_key_path_).parent_path();
  ASSERT_TRUE(EnsureDirectory(Dir(), 0700).ok());
  std::chrono::seconds old = std::chrono::hours(1), young(5);
  Plant(Dir(), ".iss-local-g1-0a.key.tmp-Ab12Cd", old);
  Plant(ca_dir, ".ca.key.tmp-Cd34Ef", old);
  Plant(Dir(), ".iss-local-g1-0b.key.tmp-Gh56Ij", young);
  Plant(ca_dir, "ca.key.tmp-Kl78Mn", old);  // not the writer's pattern
  auto removed = ops::RemoveStaleKeyTempFiles(config_);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  std::sort(removed->begin(), removed->end());
  std::vector<std::string> expected = {Dir() + "/.iss-local-g1-0a.key.tmp-Ab12Cd",
                                       ca_dir + "/.ca.key.tmp-Cd34Ef"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(*removed, expected);
  EXPECT_TRUE(Exists(Dir() + "/.iss-local-g1-0b.key.tmp-Gh56Ij"));
  EXPECT_TRUE(Exists(ca_dir + "/ca.key.tmp-Kl78Mn"));
}

// certctld's start-up: with the responder lock free, the issuer's responder
// key temporaries go whatever their age (every generation, both naming
// schemes); with it held by a reset in progress, only stale ones.
TEST_F(KeyFilesTest, StartUpRemovesTheIssuersInterruptedKeyWritesWhenNoResetRuns) {
  ASSERT_TRUE(EnsureDirectory(Dir(), 0700).ok());
  std::chrono::seconds young(5);
  auto plant_young = [&] {
    Plant(Dir(), ".iss-local-g1-0a1b.key.tmp-Ab12Cd", young);
    Plant(Dir(), ".iss-local-g12.key.tmp-Xy34Zw", young);
    Plant(Dir(), ".iss-local-g1-g1-0a1b.key.tmp-Qq11Rr", young);  // issuer iss-local-g1
    Plant(Dir(), ".iss-local-gx-0a.key.tmp-Ww33Ee", young);       // not a generation
    Plant(Dir(), ".other.pem.tmp-Aa11Bb", young);                 // maybe being written
  };
  plant_young();
  {
    auto held = OperationLock::Acquire(db(), ops::OcspResponderLockName("iss-local"),
                                       {"certctl-admin", "host-a", 4242});
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    auto ctx = Context();
    auto busy = ops::RemoveInterruptedKeyWrites(ctx, "iss-local");
    ASSERT_TRUE(busy.ok()) << busy.status().ToString();
    EXPECT_TRUE(busy->empty()) << (*busy)[0];
  }
  auto ctx = Context();
  auto removed = ops::RemoveInterruptedKeyWrites(ctx, "iss-local");
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  std::sort(removed->begin(), removed->end());
  EXPECT_EQ(*removed,
            (std::vector<std::string>{Dir() + "/.iss-local-g1-0a1b.key.tmp-Ab12Cd",
                                      Dir() + "/.iss-local-g12.key.tmp-Xy34Zw"}));
  EXPECT_TRUE(Exists(Dir() + "/.iss-local-g1-g1-0a1b.key.tmp-Qq11Rr"));
  EXPECT_TRUE(Exists(Dir() + "/.iss-local-gx-0a.key.tmp-Ww33Ee"));
  EXPECT_TRUE(Exists(Dir() + "/.other.pem.tmp-Aa11Bb"));
}

}  // namespace
}  // namespace certctl
