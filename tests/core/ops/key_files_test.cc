// Responder key files (core/src/ops/key_files.cc): a file of its own per
// responder, named after the database that wrote it; the schemes before still
// served and left in place; interrupted writes cleaned up; nothing outside the
// generation's own files, nor another database's, touched.
#include "certctl/ops/key_files.h"

#include <sys/stat.h>
#include <utime.h>

#include <filesystem>

#include "ops/ocsp_test_helpers.h"
#include "store/local_cluster.h"
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
  std::string DatabaseId(const std::string& url) {
    return Sql(url, "SELECT database_id FROM database_identity");
  }
};

TEST_F(KeyFilesTest, EveryResponderKeyGetsAFileOfItsOwn) {
  OpRun<ops::ResponderEnsured> boot;
  ASSERT_TRUE(Ensure(boot).ok()) << boot.status().ToString();
  std::string serial = Sql(url_, "SELECT serial_number FROM ocsp_responder_certs");
  std::string first = KeyPath();
  EXPECT_EQ(first,
            Dir() + "/iss-local-g1-" + serial + ".db-" + DatabaseId(url_) + ".key");
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

// A file named before database identities (schema 7) may be named by a copy
// of the database too: it keeps working, and is left in place when replaced.
TEST_F(KeyFilesTest, ARowOfTheSchemeBeforeKeepsWorkingAndIsLeftInPlaceAtTheNextReset) {
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
  auto ctx = Context();
  ops::OpReport report;
  auto reset = ops::ResetOcspResponder(ctx, kLocalIssuerId, false, report);
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  EXPECT_NE(KeyPath(), legacy);
  EXPECT_EQ(ReadBytes(legacy), legacy_key);
  EXPECT_EQ(reset->key_backup, "");
  std::string steps;
  for (const auto& step : report.steps) steps += step + "\n";
  EXPECT_NE(steps.find("left the replaced key " + legacy + " in place"),
            std::string::npos)
      << steps;
  // Keeping it is refused: it carries no database identity.
  Sql(url_, "UPDATE ocsp_responder_certs SET key_path = '" + legacy + "'");
  auto keep_legacy = ops::ResetOcspResponder(ctx, kLocalIssuerId, true, report);
  ASSERT_FALSE(keep_legacy.ok());
  EXPECT_EQ(keep_legacy.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(keep_legacy.status().message().find("carries no database identity"),
            std::string::npos)
      << keep_legacy.status().ToString();
}

// Issue 11: a restored copy of production on the same host, whose rows name
// production's key file, never writes, retires or reuses it.
TEST_F(KeyFilesTest, ACopyOfTheDatabaseNeverTouchesTheOriginalsKeyFile) {
  OpRun<ops::ResponderEnsured> boot;
  ASSERT_TRUE(Ensure(boot).ok()) << boot.status().ToString();
  std::string production_id = DatabaseId(url_);
  std::string production_key = KeyPath();
  std::string production_bytes = ReadBytes(production_key);
  ASSERT_NE(production_key.find(".db-" + production_id + ".key"), std::string::npos);

  // The copy: pg_dump of production restored with psql into a new database.
  auto bin = FindPostgresBinDir();
  ASSERT_TRUE(bin.ok()) << bin.status().ToString();
  std::string dump = *dir_ / "production.sql";
  std::string copy_name = testing::TestCluster::Get().CreateEmptyDatabase();
  std::string copy_url = testing::TestCluster::Get().Url(copy_name);
  auto dumped = RunProcess({*bin + "/pg_dump", "-d", url_, "-f", dump});
  ASSERT_TRUE(dumped.ok() && dumped->exit_code == 0)
      << (dumped.ok() ? dumped->output : "");
  auto restored = RunProcess(
      {*bin + "/psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", copy_url, "-f", dump});
  ASSERT_TRUE(restored.ok() && restored->exit_code == 0)
      << (restored.ok() ? restored->output : "");
  EXPECT_EQ(DatabaseId(copy_url), production_id) << "the row comes along in the dump";
  EXPECT_EQ(Sql(copy_url, "SELECT key_path FROM ocsp_responder_certs"), production_key);

  auto copy_db = Database::Open({.url = copy_url, .pool_size = 8});
  ASSERT_TRUE(copy_db.ok()) << copy_db.status().ToString();
  ops::OpContext copy = Context();
  ops::OpContext ctx{**copy_db,   copy.config,  copy.clock,
                     copy.logger, copy.keyring, copy.actor};

  // Reusing production's key file is refused, naming both identities.
  ops::OpReport refused_report;
  auto refused =
      ops::ResetOcspResponder(ctx, kLocalIssuerId, /*keep_key=*/true, refused_report);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  std::string why = refused.status().message();
  EXPECT_NE(why.find(production_key), std::string::npos) << why;
  EXPECT_NE(why.find("belongs to the database with identity " + production_id),
            std::string::npos)
      << why;
  std::string copy_id = DatabaseId(copy_url);
  EXPECT_NE(copy_id, production_id) << "the copy got an identity of its own";
  EXPECT_EQ(Sql(copy_url, "SELECT copied_from FROM database_identity"), production_id);
  EXPECT_NE(why.find("this database's identity is " + copy_id), std::string::npos) << why;

  // A new responder for the copy: a key file of its own; production's is left.
  ops::OpReport report;
  auto reset = ops::ResetOcspResponder(ctx, kLocalIssuerId, false, report);
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  EXPECT_NE(reset->key_path.find(".db-" + copy_id + ".key"), std::string::npos)
      << reset->key_path;
  EXPECT_EQ(reset->key_backup, "");
  EXPECT_EQ(ReadBytes(production_key), production_bytes) << "byte for byte";
  EXPECT_EQ(*FileMode(production_key), 0600u);

  // Production itself still replaces (and retires) its own file.
  ops::ResponderReset own = Reset();
  EXPECT_EQ(own.key_backup.rfind(production_key + ".bak-", 0), 0u) << own.key_backup;
  EXPECT_EQ(ReadBytes(own.key_backup), production_bytes);
  copy_db->reset();
  (void)testing::TestCluster::Get().cluster().DropDatabase(copy_name);
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
