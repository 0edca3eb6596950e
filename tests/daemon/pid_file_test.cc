#include "daemon/pid_file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "certctl/util/files.h"
#include "support/pg_harness.h"

namespace certctl::daemon {
namespace {

TEST(PidFile, WrittenWhileAliveAndRemovedAfter) {
  testing::TempDir dir;
  std::string path = dir / "certctld.pid";
  {
    auto pid = PidFile::Create(path);
    ASSERT_TRUE(pid.ok()) << pid.status().ToString();
    EXPECT_EQ(*ReadFile(path), std::to_string(::getpid()) + "\n");
    EXPECT_EQ(*FileMode(path), 0644u);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(PidFile, RefusesWhenAnotherProcessHoldsIt) {
  testing::TempDir dir;
  std::string path = dir / "certctld.pid";
  // pid 1 always runs.
  ASSERT_TRUE(WriteFileAtomic(path, "1\n", {.mode = 0644}).ok());
  auto pid = PidFile::Create(path);
  EXPECT_EQ(pid.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(pid.status().message().find("already running with pid 1"), std::string::npos);
  EXPECT_EQ(*ReadFile(path), "1\n");  // left alone
}

TEST(PidFile, ReplacesAStaleFile) {
  testing::TempDir dir;
  std::string path = dir / "certctld.pid";
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);  // gone now: its pid is stale
  ASSERT_TRUE(WriteFileAtomic(path, std::to_string(child) + "\n", {.mode = 0644}).ok());
  auto pid = PidFile::Create(path);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  EXPECT_EQ(*ReadFile(path), std::to_string(::getpid()) + "\n");
}

}  // namespace
}  // namespace certctl::daemon
