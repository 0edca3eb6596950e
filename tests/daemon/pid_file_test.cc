#include "daemon/pid_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "support/pg_harness.h"

namespace certctl::daemon {
namespace {

// Whether another process could take the lock right now (flock(1)).
bool LockedByAnyone(const std::string& path) {
  auto r = RunProcess({"flock", "--nonblock", "--no-fork", path, "true"});
  EXPECT_TRUE(r.ok());
  return r.ok() && r->exit_code != 0;
}

TEST(PidFile, HeldLockedWhileAliveAndRemovedAfter) {
  testing::TempDir dir;
  std::string path = dir / "certctld.pid";
  {
    auto pid = PidFile::Create(path);
    ASSERT_TRUE(pid.ok()) << pid.status().ToString();
    EXPECT_EQ(*ReadFile(path), std::to_string(::getpid()) + "\n");
    EXPECT_EQ(*FileMode(path), 0644u);
    EXPECT_TRUE(LockedByAnyone(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

// The finding: a pid file naming a live process that is not certctld (here
// pid 1, which always runs) made certctld refuse to start. Nothing holds its
// lock, so it is taken over. So are a stale pid, an empty file and garbage.
TEST(PidFile, TakesOverAFileNoRunningCertctldHolds) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);  // gone now: its pid is stale
  struct Case {
    const char* name;
    std::string content;
  };
  const std::vector<Case> cases = {
      {"an unrelated live process", "1\n"},
      {"a process that is gone", std::to_string(child) + "\n"},
      {"empty", ""},
      {"garbage", "not a pid\n"},
  };
  for (const auto& c : cases) {
    testing::TempDir dir;
    std::string path = dir / "certctld.pid";
    ASSERT_TRUE(WriteFileAtomic(path, c.content, {.mode = 0600}).ok());
    auto pid = PidFile::Create(path);
    ASSERT_TRUE(pid.ok()) << c.name << ": " << pid.status().ToString();
    EXPECT_EQ(*ReadFile(path), std::to_string(::getpid()) + "\n") << c.name;
    EXPECT_EQ(*FileMode(path), 0644u) << c.name;
  }
}

// A second holder in this process (flock locks belong to the open file, so
// two opens conflict as two processes do) is refused, and the file stays.
TEST(PidFile, RefusesWhileHeldAndNamesTheHolder) {
  testing::TempDir dir;
  std::string path = dir / "certctld.pid";
  auto first = PidFile::Create(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = PidFile::Create(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("already running with pid " +
                                           std::to_string(::getpid())),
            std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find(path), std::string::npos);
  EXPECT_EQ(*ReadFile(path), std::to_string(::getpid()) + "\n");
}

// Another process holds the lock (as a running certctld would): refused,
// naming that process. Once it is killed (-9: no clean-up at all), the
// kernel has dropped its lock and the file is taken over.
TEST(PidFile, RefusesALiveHolderAndTakesOverAfterItIsKilled) {
  testing::TempDir dir;
  std::string path = dir / "certctld.pid";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t holder = ::fork();
  if (holder == 0) {
    // Only async-signal-safe calls between fork and _exit.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(1);
    char text[16];
    int n = 0;
    for (pid_t p = ::getpid(), div = 1000000000; div > 0; div /= 10) {
      if (p / div || n) text[n++] = static_cast<char>('0' + (p / div) % 10);
    }
    text[n++] = '\n';
    if (::write(fd, text, static_cast<size_t>(n)) != n) ::_exit(1);
    if (::write(ready[1], "x", 1) != 1) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  auto refused = PidFile::Create(path);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("already running with pid " +
                                            std::to_string(holder)),
            std::string::npos)
      << refused.status().message();
  ::kill(holder, SIGKILL);
  int status = 0;
  ::waitpid(holder, &status, 0);
  auto taken = PidFile::Create(path);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(*ReadFile(path), std::to_string(::getpid()) + "\n");
}

// A pid file path that is a symlink is not followed (a pid file in a shared
// directory must not let someone else point certctld at another file).
TEST(PidFile, RefusesASymlink) {
  testing::TempDir dir;
  std::string target = dir / "elsewhere";
  ASSERT_TRUE(WriteFileAtomic(target, "precious\n", {.mode = 0600}).ok());
  std::string path = dir / "certctld.pid";
  std::filesystem::create_symlink(target, path);
  auto pid = PidFile::Create(path);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find(path), std::string::npos)
      << pid.status().message();
  EXPECT_EQ(*ReadFile(target), "precious\n");
}

}  // namespace
}  // namespace certctl::daemon
