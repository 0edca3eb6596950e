#include "certctl/util/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <filesystem>

#include "support/pg_harness.h"

namespace certctl {
namespace {

TEST(FilesTest, WritesAtomicallyWithMode) {
  testing::TempDir dir;
  std::string path = dir / "key.pem";
  ASSERT_TRUE(WriteFileAtomic(path, "one").ok());
  EXPECT_EQ(*ReadFile(path), "one");
  EXPECT_EQ(*FileMode(path), 0600u);
  // No temporary files are left behind.
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

// Root's files in a service user's directory become that user's, so that
// `sudo certctl-admin ca rotate` writes keys certctld (User=certctl) can read.
TEST(FilesTest, RootWritesTakeTheDirectorysOwner) {
  testing::TempDir dir;
  std::filesystem::path service = dir / "service";
  ASSERT_TRUE(EnsureDirectory(service, 0700).ok());
  const uid_t uid = 4242;  // any account: chown needs no user entry
  const gid_t gid = 4343;
  struct stat st {};
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(service.c_str(), uid, gid), 0);
    ASSERT_TRUE(WriteFileAtomic(service / "key.pem", "k").ok());
    ASSERT_EQ(::stat((service / "key.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, uid);
    EXPECT_EQ(st.st_gid, gid);
    EXPECT_EQ(*FileMode(service / "key.pem"), 0600u);
    // A root-owned directory keeps root's files root's.
    ASSERT_TRUE(WriteFileAtomic(dir / "root.pem", "r").ok());
    ASSERT_EQ(::stat((dir / "root.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
  } else {
    ASSERT_TRUE(WriteFileAtomic(service / "key.pem", "k").ok());
    ASSERT_EQ(::stat((service / "key.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, ::geteuid());
  }
}

TEST(FilesTest, KeepsBackupWhenReplacing) {
  testing::TempDir dir;
  std::string path = dir / "key.pem";
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  std::string backup;
  ASSERT_TRUE(WriteFileAtomic(path, "new", {}, &backup).ok());
  ASSERT_FALSE(backup.empty());
  EXPECT_EQ(*ReadFile(path), "new");
  EXPECT_EQ(*ReadFile(backup), "old");
  EXPECT_EQ(*FileMode(backup), 0600u);
}

TEST(FilesTest, RefusesOverwriteWhenAsked) {
  testing::TempDir dir;
  std::string path = dir / "ca.key";
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  WriteOptions o;
  o.allow_overwrite = false;
  Status s = WriteFileAtomic(path, "new", o);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFile(path), "old");
  // The refusal leaves no temporary file behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
  // A dangling symlink is a name in use too: never followed, never replaced.
  std::string link = dir / "dangling.key";
  std::filesystem::create_symlink(dir / "nowhere", link);
  EXPECT_EQ(WriteFileAtomic(link, "new", o).code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(std::filesystem::exists(dir / "nowhere"));
  EXPECT_TRUE(std::filesystem::is_symlink(link));
}

TEST(FilesTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadFile("/nonexistent/certctl/file").status().code(), StatusCode::kNotFound);
  testing::TempDir dir;
  EXPECT_EQ(WriteFileAtomic(dir / "no/such/dir/f", "x").code(), StatusCode::kNotFound);
}

TEST(FilesTest, EnsureDirectorySetsMode) {
  testing::TempDir dir;
  std::string sub = dir / "a/b";
  ASSERT_TRUE(EnsureDirectory(sub, 0700).ok());
  EXPECT_EQ(*FileMode(sub), 0700u);
  ::chmod(sub.c_str(), 0755);
  ASSERT_TRUE(EnsureDirectory(sub, 0700).ok());
  EXPECT_EQ(*FileMode(sub), 0700u);
}

TEST(FilesTest, KeepAsBackupRenamesWithoutReplacing) {
  testing::TempDir dir;
  std::string path = dir / "old.key";
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  auto first = KeepAsBackup(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(*ReadFile(*first), "old");
  EXPECT_EQ(*FileMode(*first), 0600u);
  // A second file of the same name in the same second gets its own backup.
  ASSERT_TRUE(WriteFileAtomic(path, "newer").ok());
  auto second = KeepAsBackup(path);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, *first);
  EXPECT_EQ(*ReadFile(*first), "old");
  EXPECT_EQ(*ReadFile(*second), "newer");
  EXPECT_EQ(KeepAsBackup(path).status().code(), StatusCode::kNotFound);
}

TEST(FilesTest, TempFileTargetRecognisesOnlyTheWritersPattern) {
  EXPECT_EQ(TempFileTarget(".iss-g1-ab.key.tmp-Ab12Cd"), "iss-g1-ab.key");
  EXPECT_EQ(TempFileTarget(".a.tmp-000000"), "a");
  EXPECT_FALSE(TempFileTarget("iss.key.tmp-Ab12Cd"));    // no leading dot
  EXPECT_FALSE(TempFileTarget(".iss.key.tmp-Ab12C"));    // five letters
  EXPECT_FALSE(TempFileTarget(".iss.key.tmp-Ab12Cde"));  // seven
  EXPECT_FALSE(TempFileTarget(".iss.key.tmp-Ab1.Cd"));
  EXPECT_FALSE(TempFileTarget(".tmp-Ab12Cd"));
  EXPECT_FALSE(TempFileTarget(".iss.key.bak-20240101T000000Z"));
}

// A file whose last change was `age` ago.
void Age(const std::string& path, std::chrono::seconds age) {
  struct utimbuf times {};
  times.actime = times.modtime = std::time(nullptr) - age.count();
  ASSERT_EQ(::utime(path.c_str(), &times), 0);
}

TEST(FilesTest, RemoveStaleTempFilesTakesOnlyOldTemporaries) {
  testing::TempDir dir;
  auto write = [&](const std::string& name, std::chrono::seconds age) {
    ASSERT_TRUE(WriteFileAtomic(dir / name, "x", {.keep_backup = false}).ok());
    Age(dir / name, age);
  };
  write(".a.key.tmp-Ab12Cd", std::chrono::hours(1));     // stale: goes
  write(".b.key.tmp-Xy34Zw", std::chrono::seconds(10));  // young: a write in progress
  write("c.key", std::chrono::hours(1));                 // a key
  write("c.key.bak-20240101T000000Z", std::chrono::hours(1));
  write(".other.tmp-file", std::chrono::hours(1));  // not the pattern
  ASSERT_TRUE(std::filesystem::create_directory(dir / ".d.key.tmp-Qq11Rr"));
  std::filesystem::create_symlink(dir / "c.key", dir / ".e.key.tmp-Ss22Tt");
  Age(dir / ".d.key.tmp-Qq11Rr", std::chrono::hours(1));

  auto removed = RemoveStaleTempFiles(dir.path());
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, std::vector<std::string>{dir / ".a.key.tmp-Ab12Cd"});
  for (const char* kept : {".b.key.tmp-Xy34Zw", "c.key", "c.key.bak-20240101T000000Z",
                           ".other.tmp-file", ".d.key.tmp-Qq11Rr", ".e.key.tmp-Ss22Tt"}) {
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::symlink_status(dir / kept)))
        << kept;
  }
  // Any age, but only the targets the caller accepts.
  auto only_b = RemoveStaleTempFiles(
      dir.path(), {.min_age = std::chrono::seconds(0),
                   .accept = [](std::string_view target) { return target == "b.key"; }});
  ASSERT_TRUE(only_b.ok());
  EXPECT_EQ(*only_b, std::vector<std::string>{dir / ".b.key.tmp-Xy34Zw"});
  EXPECT_TRUE(RemoveStaleTempFiles(dir / "missing")->empty());
}

}  // namespace
}  // namespace certctl
