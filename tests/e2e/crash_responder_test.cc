// `certctl-admin ocsp reset-responder` killed with SIGKILL at each of its
// steps, failed at each, and cut off from PostgreSQL between writing its key
// and switching the row, while a certctld keeps answering OCSP requests; and
// certctld itself killed at each step of its automatic responder rotation.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <set>

#include "certctl/util/fail_point.h"
#include "e2e/crash_fixture.h"
#include "support/pg_harness.h"

namespace certctl::testing {
namespace {

// Killed between writing its key and COMMIT (the key is written last in the
// switch's transaction), a reset leaves the new key file behind, unused: no
// row names it, and no later run can tell it from the key of a reset in
// progress against another database on the same directory, so it is never
// deleted unasked.
TEST_F(CrashResponderTest, KilledAtEveryStepLeavesAWorkingResponder) {
  auto points = FailPointsOf("responder.");
  ASSERT_EQ(points.size(), 6u);
  std::set<std::string> unused;
  for (const auto& point : points) {
    SCOPED_TRACE(point);
    auto before = KeyFiles();
    std::string old_serial = RowSerial();
    auto killed = AdminArmed(kReset, point);
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.Both();
    EXPECT_NE(killed.err.find("fail point " + point + ": crash"), std::string::npos);
    ExpectNothingLost(before);
    ExpectResponderConsistent(*daemon_);
    bool written_not_switched = point == "responder.key-written";
    EXPECT_EQ(RowSerial() != old_serial,
              point == "responder.row-switched" || point == "responder.old-key-retired");
    auto fresh = UnusedNewKeys(before);
    unused.insert(fresh.begin(), fresh.end());
    size_t left = fresh.size();
    EXPECT_EQ(left, written_not_switched ? 1u : 0u);
    RestartDaemon();
    ExpectResponderConsistent(*daemon_);
    ExpectRerunRepairs(before, unused);
  }
}

TEST_F(CrashResponderTest, FailingAtEveryStepLeavesAWorkingResponder) {
  // A misspelt fail point stops the run at the first one, changing nothing.
  auto before_typo = KeyFiles();
  std::string serial = RowSerial();
  auto typo = AdminArmed(kReset, "responder.lockd");
  EXPECT_EQ(typo.exit_code, 78) << typo.Both();
  EXPECT_NE(typo.err.find("unknown fail point \"responder.lockd\""), std::string::npos)
      << typo.err;
  EXPECT_EQ(RowSerial(), serial);
  EXPECT_EQ(KeyFiles(), before_typo);

  for (const auto& point : FailPointsOf("responder.")) {
    SCOPED_TRACE(point);
    auto before = KeyFiles();
    std::string old_serial = RowSerial();
    auto failed = AdminArmed(kReset, point + "=error");
    EXPECT_EQ(failed.exit_code, 70) << failed.Both();
    EXPECT_NE(failed.err.find("fail point " + point), std::string::npos) << failed.err;
    ExpectNothingLost(before);
    ExpectResponderConsistent(*daemon_);
    bool switched =
        point == "responder.row-switched" || point == "responder.old-key-retired";
    EXPECT_EQ(RowSerial() != old_serial, switched);
    if (!switched) {
      // Nothing changed: the new key is gone again, the old one still in use.
      EXPECT_EQ(KeyFiles(), before);
    }
    ExpectRerunRepairs(before);
  }
}

// PostgreSQL stops while a reset is paused: before its transaction (nothing
// is written, the reset fails as "unavailable"), and with the new key written
// and COMMIT not sent (the COMMIT fails, its outcome unknown to the reset: the
// key file stays, unused and named). The previous responder keeps working.
TEST_F(CrashResponderTest, DatabaseStoppedMidResetKeepsTheOldResponder) {
  std::set<std::string> unused;
  for (std::string point : {"responder.locked", "responder.key-written"}) {
    SCOPED_TRACE(point);
    auto before = KeyFiles();
    std::string old_serial = RowSerial(), old_key = RowKeyPath();
    auto reset = StartAdmin(kReset, point + "=pause", *dir_ / "reset.log");
    ASSERT_TRUE(WaitStopped(reset->pid())) << reset->Log();
    ASSERT_TRUE(TestCluster::Get().Stop().ok());
    reset->Signal(SIGCONT);
    int code = reset->Wait(std::chrono::seconds(60));
    ASSERT_TRUE(TestCluster::Get().Start().ok());
    std::string log = reset->Log();
    EXPECT_EQ(code, 69) << log;
    EXPECT_NE(log.find("the previous responder is unchanged and still in use"),
              std::string::npos)
        << log;

    EXPECT_EQ(RowSerial(), old_serial);
    EXPECT_EQ(RowKeyPath(), old_key);
    ExpectNothingLost(before);
    std::vector<std::string> added;
    for (const auto& [name, v] : KeyFiles()) {
      if (!before.count(name)) added.push_back(name);
    }
    if (point == "responder.locked") {
      EXPECT_TRUE(added.empty()) << added[0];
    } else {
      ASSERT_EQ(added.size(), 1u);
      EXPECT_NE(log.find(added[0] + " is left unused"), std::string::npos) << log;
      unused.insert(added[0]);
    }
    ASSERT_TRUE(Eventually([&] {
      return e2e::Exec({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                        ca_cert_path_, daemon_->api + "/readyz"})
                 .text == "200";
    }));
    ExpectResponderConsistent(*daemon_);
    ExpectRerunRepairs(before, unused);
  }
  for (const auto& name : unused) {
    EXPECT_TRUE(std::filesystem::exists(KeyDir() + "/" + name));  // never deleted unasked
  }
}

// certctld replaces a responder by itself when it is due (the scheduler at
// start, or the request path): killed at each step of that, it leaves a row
// whose key file holds its key, and the next start serves with it.
TEST_F(CrashResponderTest, DaemonKilledAtEveryStepOfItsAutomaticRotation) {
  std::set<std::string> unused;
  for (const auto& point : FailPointsOf("responder.")) {
    SCOPED_TRACE(point);
    daemon_.reset();
    auto before = KeyFiles();
    std::string old_serial = RowSerial();
    // Due for rotation: less than CERTCTL_OCSP_RESPONDER_RENEW_BEFORE left.
    std::string not_after = Sql(url_, "SELECT not_after FROM ocsp_responder_certs");
    Sql(url_, "UPDATE ocsp_responder_certs SET not_after = now() + interval '1 hour'");
    auto [code, log] = RunDaemonUntilItDies(point);
    ASSERT_EQ(code, 128 + SIGKILL) << log;
    EXPECT_NE(log.find("fail point " + point + ": crash"), std::string::npos) << log;
    ExpectNothingLost(before);
    ExpectRowMatchesKeyFile();
    EXPECT_EQ(RowSerial() != old_serial,
              point == "responder.row-switched" || point == "responder.old-key-retired");
    auto fresh = UnusedNewKeys(before);
    EXPECT_EQ(fresh.size(), point == "responder.key-written" ? 1u : 0u);
    unused.insert(fresh.begin(), fresh.end());
    if (RowSerial() == old_serial) {
      // Not due again, so that the next start only cleans up and serves.
      Sql(url_, "UPDATE ocsp_responder_certs SET not_after = '" + not_after + "'");
    }
    RestartDaemon();
    ExpectNothingLost(before);
    ExpectResponderConsistent(*daemon_);
    ExpectRerunRepairs(before, unused);
  }
}

}  // namespace
}  // namespace certctl::testing
