// `certctl-admin ca backup` killed with SIGKILL, or failed, at each of its
// steps: what it leaves is never taken for a complete backup, the CA key is
// untouched, and a rerun into a new directory gives a backup that verifies.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>

#include "certctl/util/encoding.h"
#include "certctl/util/fail_point.h"
#include "certctl/util/files.h"
#include "e2e/crash_fixture.h"

namespace certctl::testing {
namespace {

class CrashBackupTest : public CrashTest {
 protected:
  // Every entry of `dir` is a regular file with mode 0600, `dir` is 0700.
  void ExpectModes(const std::string& dir) {
    EXPECT_EQ(*FileMode(dir), 0700u) << dir;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      EXPECT_TRUE(e.is_regular_file()) << e.path();
      EXPECT_EQ(*FileMode(e.path()), 0600u) << e.path();
    }
  }

  // `ca backup --verify` of what the run left: incomplete (no manifest), or
  // complete but not recorded.
  void ExpectNotABackup(const std::string& dir, bool manifest_written) {
    auto verify = Admin({"-o", "json", "ca", "backup", "--verify", dir});
    std::string codes;
    for (const auto& f : verify.json["findings"])
      codes += f["code"].get<std::string>() + " ";
    if (!manifest_written) {
      EXPECT_FALSE(std::filesystem::exists(dir + "/manifest.json"));
      EXPECT_EQ(verify.exit_code, 1) << verify.Both();
      EXPECT_EQ(codes, "ca.backup_incomplete ") << verify.out;
    } else {
      // The files are all there; only the database does not know it.
      EXPECT_EQ(verify.exit_code, 0) << verify.Both();
      EXPECT_EQ(codes, "ca.backup_not_recorded ") << verify.out;
    }
    EXPECT_EQ(
        Sql(url_, "SELECT count(*) FROM ca_backups WHERE directory = '" + dir + "'"),
        "0");
    auto status = Admin({"-o", "json", "ca", "status", "iss-local"});
    const auto& backup = status.json["data"]["issuers"][0]["generations"][0]["backup"];
    EXPECT_TRUE(backup.is_null() || backup["directory"] != dir) << status.out;
  }

  std::string KeyDigest() { return Sha256Hex(*ReadFile(ca_key_path_)); }
};

TEST_F(CrashBackupTest, KilledOrFailedAtEveryStepLeavesNoBackupThatLooksComplete) {
  std::string key = KeyDigest();
  auto points = FailPointsOf("ca-backup.");
  ASSERT_EQ(points.size(), 3u);
  int n = 0, recorded = 0;
  for (const auto& point : points) {
    for (const std::string action : {"crash", "error"}) {
      SCOPED_TRACE(point + "=" + action);
      std::string dir = *dir_ / ("backup-" + std::to_string(++n));
      auto run =
          AdminArmed({"ca", "backup", "iss-local", "--to", dir}, point + "=" + action);
      EXPECT_EQ(run.exit_code, action == "crash" ? 128 + SIGKILL : 70) << run.Both();
      EXPECT_NE(run.err.find("fail point " + point + ": " + action), std::string::npos)
          << run.err;
      ASSERT_TRUE(std::filesystem::is_directory(dir));
      ExpectModes(dir);
      ExpectNotABackup(dir, point == "ca-backup.manifest-written");
      // The CA key is untouched. What the run wrote is never written over:
      // a rerun into the directory is refused, unless it is still empty
      // (killed right after creating it), and then that rerun is a backup.
      EXPECT_EQ(KeyDigest(), key);
      EXPECT_EQ(*FileMode(ca_key_path_), 0600u);
      bool empty = std::filesystem::is_empty(dir);
      EXPECT_EQ(empty, point == "ca-backup.directory-created");
      auto again = Admin({"ca", "backup", "iss-local", "--to", dir});
      EXPECT_EQ(again.exit_code, empty ? 0 : 2) << again.Both();
      if (empty) {
        ++recorded;
        EXPECT_EQ(Admin({"ca", "backup", "--verify", dir}).exit_code, 0);
      }
    }
  }
  // A rerun into a new directory gives a backup that verifies and is recorded.
  std::string fresh = *dir_ / "backup-rerun";
  auto rerun = Admin({"ca", "backup", "iss-local", "--to", fresh});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.Both();
  auto verify = Admin({"ca", "backup", "--verify", fresh});
  EXPECT_EQ(verify.exit_code, 0) << verify.Both();
  EXPECT_EQ(verify.err, "");
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM ca_backups"), std::to_string(recorded + 1));
}

}  // namespace
}  // namespace certctl::testing
