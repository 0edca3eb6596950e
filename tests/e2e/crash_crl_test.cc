// CRL generation killed with SIGKILL, or failed, at each of its steps: in
// `certctl-admin crl regenerate`, and in certctld's write-back of a CRL it
// had to sign on a fetch. CRL numbers never repeat or go back, and what is
// served always verifies and lists the revoked certificate.
#include <gtest/gtest.h>
#include <signal.h>

#include "certctl/util/fail_point.h"
#include "certctl/util/files.h"
#include "e2e/crash_fixture.h"

namespace certctl::testing {
namespace {

const std::vector<std::string> kRegenerate = {"crl",   "regenerate", "iss-local",
                                              "--yes", "--wait",     "20s"};

class CrashCrlTest : public CrashTest {
 protected:
  // The cached CRL, if any, and a rerun that must sign a higher number.
  void ExpectCachedCrlGoodAndRerunIncreases() {
    CrlSeen cached = CachedCrl();
    if (cached.number != -1)
      Published(cached, "crl_cache after the failure", CrlSource::kCache);
    long highest = HighestNumber();
    auto rerun = Admin(kRegenerate);
    ASSERT_EQ(rerun.exit_code, 0) << rerun.Both();
    CrlSeen fresh = CachedCrl();
    Published(fresh, "crl_cache after the rerun", CrlSource::kCache);
    EXPECT_GT(fresh.number, highest);
    EXPECT_EQ(Sql(url_,
                  "SELECT count(*) - count(DISTINCT crl_number) FROM "
                  "crl_generation_events WHERE succeeded"),
              "0");
  }
};

TEST_F(CrashCrlTest, RegenerateKilledOrFailedAtEveryStep) {
  auto first = Admin(kRegenerate);
  ASSERT_EQ(first.exit_code, 0) << first.Both();
  Published(CachedCrl(), "first", CrlSource::kCache);
  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  auto points = FailPointsOf("crl.");
  ASSERT_EQ(points.size(), 5u);
  for (const auto& point : points) {
    for (const std::string action : {"crash", "error"}) {
      SCOPED_TRACE(point + "=" + action);
      auto run = AdminArmed(kRegenerate, point + "=" + action);
      EXPECT_EQ(run.exit_code, action == "crash" ? 128 + SIGKILL : 70) << run.Both();
      EXPECT_NE(run.err.find("fail point " + point + ": " + action), std::string::npos)
          << run.err;
      Published(FetchCrl(daemon->pki), "served by certctld after the failure",
                CrlSource::kServed);
      ExpectCachedCrlGoodAndRerunIncreases();
      EXPECT_TRUE(Eventually([&] {
        CrlSeen served = FetchCrl(daemon->pki);
        return served.number == HighestNumber();
      })) << "certctld does not serve the new CRL";
      Published(FetchCrl(daemon->pki), "served by certctld after the rerun",
                CrlSource::kServed);
    }
  }
}

// certctld signs a CRL live when a fetch finds none cached and writes it back
// (the CRL scheduler is held off by holding its lock, so the fetch does it).
TEST_F(CrashCrlTest, DaemonKilledAtEveryStepOfTheWriteBack) {
  auto scheduler = HoldLock("scheduler:crl");
  ASSERT_NE(scheduler, nullptr);
  for (const auto& point : FailPointsOf("crl.")) {
    SCOPED_TRACE(point);
    auto dropped =
        Admin({"crl", "regenerate", "iss-local", "--invalidate-only", "--yes"});
    ASSERT_EQ(dropped.exit_code, 0) << dropped.Both();
    auto armed = StartDaemon({{"CERTCTL_FAILPOINTS", point}});
    ASSERT_NE(armed, nullptr);
    e2e::Output fetch = e2e::Exec({"curl", "-s", "--max-time", "20", "-o", "/dev/null",
                                   armed->pki + "/.well-known/pki/crl/iss-local"});
    EXPECT_NE(fetch.exit_code, 0) << "certctld answered instead of dying";
    EXPECT_EQ(armed->process->Wait(std::chrono::seconds(20)), 128 + SIGKILL);
    EXPECT_NE(armed->process->Log().find("fail point " + point + ": crash"),
              std::string::npos);

    CrlSeen cached = CachedCrl();
    if (cached.number != -1)
      Published(cached, "crl_cache after the crash", CrlSource::kCache);
    long highest = HighestNumber();
    auto again = StartDaemon();
    ASSERT_NE(again, nullptr);
    CrlSeen served = FetchCrl(again->pki);
    Published(served, "served after the restart", CrlSource::kServed);
    EXPECT_GT(served.number, 0);
    EXPECT_GE(served.number, highest);
    if (cached.number == -1) {
      EXPECT_GT(served.number, highest);
    }
  }
  EXPECT_EQ(Sql(url_,
                "SELECT count(*) - count(DISTINCT crl_number) FROM "
                "crl_generation_events WHERE succeeded"),
            "0");
}

// Every fail point belongs to a scenario above, in crash_responder_test.cc or
// crash_backup_test.cc or crash_rotate_test.cc, and docs/reliability.md lists
// it: a new one (restore) fails
// here until it gets its crash test and its line in the docs.
TEST(FailPointsTest, EveryFailPointHasACrashScenarioAndIsDocumented) {
  ASSERT_TRUE(kFailPointsCompiledIn);
  auto doc = ReadFile(std::string(CERTCTL_SOURCE_DIR) + "/docs/reliability.md");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  for (const auto& p : kFailPoints) {
    bool covered = p.name.rfind("responder.", 0) == 0 || p.name.rfind("crl.", 0) == 0 ||
                   p.name.rfind("ca-backup.", 0) == 0 ||  // crash_backup_test.cc
                   p.name.rfind("rotate.", 0) == 0;       // crash_rotate_test.cc
    EXPECT_TRUE(covered) << p.name << " has no crash scenario";
    EXPECT_NE(doc->find("`" + std::string(p.name) + "`"), std::string::npos)
        << p.name << " is not listed in docs/reliability.md";
  }
}

}  // namespace
}  // namespace certctl::testing
