// kill -9 at random moments, the way issue 8 found the responder reset
// unsafe (2 of 24 kills left the row and its key file apart, and temporary
// key files stayed forever): `ocsp reset-responder` and `crl regenerate` are
// started, killed after a random delay within their usual run time, and the
// invariants are checked after every kill. The fail points
// (crash_responder_test.cc, crash_crl_test.cc) hit every step for sure; this
// covers the instants between them.
//
// CERTCTL_CRASH_KILLS (default 12 per command) lengthens a run;
// CERTCTL_CRASH_SEED (default: random, printed) repeats its delays. The
// delays are the stimulus, not a wait for a condition: every check after a
// kill waits for the exit.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "certctl/util/files.h"
#include "e2e/crash_fixture.h"

namespace certctl::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::steady_clock;

// Read once, at the first test's construction: every test's SetUp clears
// the CERTCTL_* variables of this process.
const char* Setting(const char* name) {
  static const std::map<std::string, std::string> settings = [] {
    std::map<std::string, std::string> out;
    for (const char* n : {"CERTCTL_CRASH_KILLS", "CERTCTL_CRASH_SEED"}) {
      if (const char* v = std::getenv(n)) out[n] = v;
    }
    return out;
  }();
  auto it = settings.find(name);
  return it == settings.end() ? nullptr : it->second.c_str();
}

int KillsPerCommand() {
  const char* n = Setting("CERTCTL_CRASH_KILLS");
  return n ? std::max(1, std::atoi(n)) : 12;
}

uint32_t Seed() {
  const char* s = Setting("CERTCTL_CRASH_SEED");
  return s ? static_cast<uint32_t>(std::strtoul(s, nullptr, 10)) : std::random_device{}();
}

// What one kill left behind, for the report (the invariants are checked
// apart from this).
struct Tally {
  int finished = 0;         // exited 0 before the kill
  int unchanged = 0;        // killed, nothing visible changed
  int temp_left = 0;        // killed mid key write: a temporary file
  int unused_key_left = 0;  // killed between key write and COMMIT
  int switched = 0;         // killed after COMMIT (row names the new key)
  std::string Describe(int kills) const {
    return std::to_string(kills) + " runs: " + std::to_string(finished) +
           " finished before the kill, " + std::to_string(unchanged) +
           " killed with nothing changed, " + std::to_string(temp_left) +
           " with a temporary key file left, " + std::to_string(unused_key_left) +
           " with an unused new key file, " + std::to_string(switched) +
           " after the switch";
  }
};

// Changes in a directory, seen through inotify: lets a kill land after a run
// began writing its key instead of mostly in its start-up (the process start,
// the database connection and the audit event take most of a run's time).
class DirectoryWatch {
 public:
  explicit DirectoryWatch(const std::string& dir)
      : fd_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {
    EXPECT_GE(fd_, 0);
    EXPECT_GE(::inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_DELETE),
              0);
  }
  ~DirectoryWatch() { ::close(fd_); }
  DirectoryWatch(const DirectoryWatch&) = delete;
  DirectoryWatch& operator=(const DirectoryWatch&) = delete;

  // Waits until something changes in the directory (true) or `p` exits.
  bool WaitForChange(e2e::BackgroundProcess& p) {
    pollfd pfd{fd_, POLLIN, 0};
    while (p.Running()) {
      if (::poll(&pfd, 1, 20) > 0) return true;
    }
    return false;
  }

 private:
  int fd_;
};

class RandomKillTest : public CrashResponderTest {
 protected:
  // When, from the start of a run, to kill it: `delay` after the start, or
  // (after_key_write) `delay` after the run first changed the key directory.
  struct Kill {
    microseconds delay;
    bool after_key_write = false;
  };
  struct Timing {
    microseconds total{0};       // start to exit
    microseconds from_write{0};  // first change in the key directory to exit
  };

  // Runs `args`, killed as `kill` says (never without one); the exit code
  // (128 + SIGKILL when the kill came first).
  int Run(const std::vector<std::string>& args, std::optional<Kill> kill,
          Timing* timing = nullptr) {
    DirectoryWatch watch(KeyDir());
    auto start = steady_clock::now();
    auto p = StartAdmin(args, "", *dir_ / "random-kill.log");
    auto written = start;
    if (!kill || kill->after_key_write) {
      bool changed = watch.WaitForChange(*p);
      written = steady_clock::now();
      if (kill && !changed) return p->Wait(std::chrono::seconds(60));
    }
    if (kill) {
      std::this_thread::sleep_until((kill->after_key_write ? written : start) +
                                    kill->delay);
      p->Signal(SIGKILL);
    }
    int code = p->Wait(std::chrono::seconds(60));
    if (timing) {
      auto end = steady_clock::now();
      timing->total = std::chrono::duration_cast<microseconds>(end - start);
      timing->from_write = std::chrono::duration_cast<microseconds>(end - written);
    }
    return code;
  }
  // The longest of three undisturbed runs (each must succeed), so that the
  // kills spread over a whole run.
  Timing Measure(const std::vector<std::string>& args) {
    Timing longest;
    for (int i = 0; i < 3; ++i) {
      Timing t;
      EXPECT_EQ(Run(args, std::nullopt, &t), 0);
      longest.total = std::max(longest.total, t.total);
      longest.from_write = std::max(longest.from_write, t.from_write);
    }
    return longest;
  }
  // A random delay up to `limit`.
  microseconds Pick(microseconds limit) {
    return microseconds(std::uniform_int_distribution<int64_t>(0, limit.count())(rng_));
  }
  // Failed assertions so far in this test: the invariant violations.
  static int Violations() {
    const auto* result =
        ::testing::UnitTest::GetInstance()->current_test_info()->result();
    int failed = 0;
    for (int i = 0; i < result->total_part_count(); ++i) {
      failed += result->GetTestPartResult(i).failed();
    }
    return failed;
  }
  void Report(const std::string& summary) {
    RecordProperty("summary", summary);
    std::cout << summary << "\n";
  }

  // Read before SetUp, which clears every CERTCTL_* variable.
  int kills_ = KillsPerCommand();
  uint32_t seed_ = Seed();
  std::mt19937 rng_{seed_};
};

// Half the kills land anywhere in a run, half after it began writing its key
// (the first change in the key directory): the write, the switch's COMMIT,
// the retirement of the old key and the verification.
TEST_F(RandomKillTest, ResetKilledAtRandomMoments) {
  Timing longest = Measure(kReset);
  ASSERT_FALSE(HasFailure());
  int kills = kills_;
  Tally tally;
  std::set<std::string> unused;
  auto first = KeyFiles();
  for (int i = 0; i < kills; ++i) {
    SCOPED_TRACE("kill " + std::to_string(i) +
                 ", CERTCTL_CRASH_SEED=" + std::to_string(seed_));
    auto before = KeyFiles();
    std::string old_serial = RowSerial();
    Kill kill = i % 2 == 0 ? Kill{Pick(longest.total)}
                           : Kill{Pick(longest.from_write), /*after_key_write=*/true};
    int code = Run(kReset, kill);
    ASSERT_TRUE(code == 0 || code == 128 + SIGKILL) << code;
    ExpectNothingLost(before);
    ExpectRowMatchesKeyFile();
    ExpectResponderConsistent(*daemon_);
    auto fresh = UnusedNewKeys(before);
    unused.insert(fresh.begin(), fresh.end());
    bool temp = false;
    for (const auto& [name, v] : KeyFiles()) temp = temp || TempFileTarget(name);
    if (code == 0) {
      ++tally.finished;
    } else if (RowSerial() != old_serial) {
      ++tally.switched;
    } else if (temp) {
      ++tally.temp_left;
    } else if (!fresh.empty()) {
      ++tally.unused_key_left;
    } else {
      ++tally.unchanged;
    }
    if (HasFatalFailure()) return;
  }
  RestartDaemon();  // removes every temporary left
  ExpectRerunRepairs(first, unused);
  Report("ocsp reset-responder (longest undisturbed run " +
         std::to_string(longest.total.count() / 1000) + " ms, " +
         std::to_string(longest.from_write.count() / 1000) +
         " ms of it from the key write on; CERTCTL_CRASH_SEED=" + std::to_string(seed_) +
         "): " + tally.Describe(kills) + "; " + std::to_string(Violations()) +
         " invariant violations");
}

const std::vector<std::string> kRegenerate = {"crl",   "regenerate", "iss-local",
                                              "--yes", "--wait",     "20s"};

TEST_F(RandomKillTest, CrlRegenerateKilledAtRandomMoments) {
  microseconds longest = Measure(kRegenerate).total;
  ASSERT_FALSE(HasFailure());
  Published(CachedCrl(), "after the undisturbed runs", CrlSource::kCache);
  int kills = kills_, finished = 0, committed = 0;
  for (int i = 0; i < kills; ++i) {
    SCOPED_TRACE("kill " + std::to_string(i) +
                 ", CERTCTL_CRASH_SEED=" + std::to_string(seed_));
    long highest = HighestNumber();
    int code = Run(kRegenerate, Kill{Pick(longest)});
    ASSERT_TRUE(code == 0 || code == 128 + SIGKILL) << code;
    finished += code == 0;
    CrlSeen cached = CachedCrl();
    Published(cached, "crl_cache after the kill", CrlSource::kCache);
    committed += code != 0 && cached.number > highest;
    Published(FetchCrl(daemon_->pki), "served by certctld after the kill",
              CrlSource::kServed);
  }
  long highest = HighestNumber();
  auto rerun = Admin(kRegenerate);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.Both();
  CrlSeen last = CachedCrl();
  Published(last, "after the rerun", CrlSource::kCache);
  EXPECT_GT(last.number, highest);
  EXPECT_EQ(Sql(url_,
                "SELECT count(*) - count(DISTINCT crl_number) FROM "
                "crl_generation_events WHERE succeeded"),
            "0");
  Report("crl regenerate (longest undisturbed run " +
         std::to_string(longest.count() / 1000) + " ms, CERTCTL_CRASH_SEED=" +
         std::to_string(seed_) + "): " + std::to_string(kills) +
         " runs: " + std::to_string(finished) + " finished before the kill, " +
         std::to_string(committed) + " killed after their CRL committed, " +
         std::to_string(kills - finished - committed) + " killed before; " +
         std::to_string(Violations()) + " invariant violations");
}

}  // namespace
}  // namespace certctl::testing
