#include "certctl/util/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

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

}  // namespace
}  // namespace certctl
