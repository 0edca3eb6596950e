// The CRL scheduler, the NOTIFY watcher, the database monitor, maintenance.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "certctl/log/logging.h"
#include "certctl/util/time_format.h"
#include "daemon/daemon_fixture.h"
#include "daemon/schedulers/crl_loader.h"
#include "daemon/schedulers/crl_scheduler.h"
#include "daemon/schedulers/database_monitor.h"
#include "daemon/schedulers/invalidation_watcher.h"
#include "daemon/schedulers/maintenance.h"
#include "daemon/schedulers/scheduler_thread.h"
#include "support/eventually.h"

namespace certctl::testing {
namespace {

using namespace std::chrono_literals;

// The thread every scheduler runs on: the first step at once, a sleep cut
// short by Wake(), and a Stop() that does not wait out the sleep.
TEST(SchedulerThreadTest, RunsAtOnceWakesEarlyAndStopsWithoutSleepingOut) {
  daemon::SchedulerThread thread;
  std::atomic<int> steps{0};
  thread.Start([&] {
    ++steps;
    return std::chrono::milliseconds(std::chrono::hours(1));
  });
  EXPECT_TRUE(Eventually([&] { return steps == 1; }));
  thread.Wake();
  EXPECT_TRUE(Eventually([&] { return steps == 2; }));
  thread.Stop();
  EXPECT_TRUE(thread.stopping());
  EXPECT_EQ(steps, 2);
  thread.Stop();  // again: nothing to do
}

class SchedulersTest : public DaemonTest {
 protected:
  int64_t Events(const std::string& trigger) {
    return std::stoll(Sql(
        url_,
        "SELECT count(*) FROM crl_generation_events WHERE trigger = '" + trigger + "'"));
  }
};

TEST_F(SchedulersTest, StartupRegeneratesOnlyWhatNeedsIt) {
  daemon::CrlScheduler scheduler(*app_, {});
  // Nothing cached yet: missing.
  EXPECT_TRUE(scheduler.RegenerateIfNeeded("iss-local", ops::CrlTrigger::kStartup));
  EXPECT_EQ(Events("startup"), 1);
  // Fresh and matching: nothing to do.
  EXPECT_FALSE(scheduler.RegenerateIfNeeded("iss-local", ops::CrlTrigger::kStartup));
  EXPECT_EQ(Events("startup"), 1);
  // A corrupt row is regenerated.
  Sql(url_, "UPDATE crl_cache SET crl_der = '\\xdeadbeef'::bytea");
  EXPECT_TRUE(scheduler.RegenerateIfNeeded("iss-local", ops::CrlTrigger::kStartup));
  EXPECT_EQ(Events("startup"), 2);
}

TEST_F(SchedulersTest, LeaderRegeneratesAfterARevocationDebounced) {
  daemon::CrlScheduler scheduler(
      *app_,
      {.interval = std::chrono::seconds(3600), .debounce = 100ms, .leader_retry = 100ms});
  app_->OnRevocation([&](const std::string& issuer) { scheduler.Changed(issuer); });
  // As in certctld: the NOTIFY of every regeneration comes back to it.
  daemon::InvalidationWatcher watcher(
      *app_, [&](const std::string& issuer) { scheduler.Changed(issuer); });
  watcher.Start();
  ASSERT_TRUE(Eventually([&] { return watcher.listening(); }));
  scheduler.Start();
  ASSERT_TRUE(Eventually([&] { return scheduler.leader(); }));
  ASSERT_TRUE(Eventually([&] { return Events("startup") == 1; })) << Events("startup");
  // The start-up CRL's own NOTIFY came back and found it current.
  ASSERT_TRUE(Eventually([&] { return scheduler.found_current() >= 1; }));
  int64_t current_before = scheduler.found_current();
  auto c = Issue("debounce.example");
  ASSERT_EQ(Post("/api/v1/certificates/" + c.serial + "/revoke", "{}").status, 200);
  EXPECT_TRUE(Eventually([&] { return Events("revocation") == 1; }));
  // Its NOTIFY comes back too, finds the CRL current and makes no other one.
  EXPECT_TRUE(Eventually([&] { return scheduler.found_current() > current_before; }));
  EXPECT_EQ(Events("revocation"), 1);
  scheduler.Stop();
  watcher.Stop();
}

TEST_F(SchedulersTest, OneLeaderAcrossReplicas) {
  daemon::CrlScheduler first(*app_, {.leader_retry = 50ms});
  daemon::App other_app(db(), config_, *keyring_, SystemClock::Instance(), NullLogger());
  daemon::CrlScheduler second(other_app, {.leader_retry = 50ms});
  first.Start();
  ASSERT_TRUE(Eventually([&] { return first.leader(); }));
  second.Start();
  // Tried a few times while the first holds the lock, and never got it.
  EXPECT_TRUE(Eventually([&] { return second.leadership_checks() >= 3; }));
  EXPECT_FALSE(second.leader());
  first.Stop();  // releases the lock with its connection
  EXPECT_TRUE(Eventually([&] { return second.leader(); }));
  second.Stop();
}

TEST_F(SchedulersTest, WatcherHearsNotificationsFromAnyConnection) {
  std::atomic<int> crl_changes{0};
  daemon::InvalidationWatcher watcher(*app_, [&](const std::string& issuer) {
    if (issuer == "iss-local") ++crl_changes;
  });
  watcher.Start();
  ASSERT_TRUE(Eventually([&] { return watcher.listening(); }));
  auto c = Issue("notify.example");
  Revoke(c.serial);  // another OpContext: a pooled connection, not the listener's
  EXPECT_TRUE(Eventually([&] { return crl_changes.load() >= 1; }));
  EXPECT_GE(watcher.received(), 2);  // "ocsp" for the serial and "crl"
  // A payload that is not ours is skipped, not fatal.
  Sql(url_, "SELECT pg_notify('certctl_invalidate', 'garbage')");
  Sql(url_,
      "SELECT pg_notify('certctl_invalidate', "
      "'{\"scope\":\"crl\",\"issuer\":\"iss-local\"}')");
  EXPECT_TRUE(Eventually([&] { return crl_changes.load() >= 2; }));
  EXPECT_TRUE(watcher.listening());
  watcher.Stop();
}

// A regeneration elsewhere (certctl-admin): the loader reads and verifies
// the new CRL once, off the request path; the GETs before it get the
// previous CRL from memory, the GETs after it the new one, none re-reads.
TEST_F(SchedulersTest, TheCrlLoaderLoadsEachNewCrlOnceOffTheRequestPath) {
  auto number = [&] {
    auto served = app_->crl().Get("iss-local", std::nullopt);
    EXPECT_TRUE(served.ok()) << served.status().ToString();
    return served.ok() ? served->crl->crl_number : -1;
  };
  daemon::CrlScheduler scheduler(*app_, {});
  ASSERT_TRUE(scheduler.RegenerateIfNeeded("iss-local", ops::CrlTrigger::kStartup));
  int64_t before = number();  // published by the scheduler: nothing read back
  EXPECT_EQ(app_->crl().Loads(), 0);

  auto ctx = app_->Context({"admin", "host", "certctl-admin crl regenerate", ""});
  ops::OpReport report;
  ASSERT_TRUE(ops::RegenerateCrl(ctx, "iss-local", ops::CrlTrigger::kAdmin, report).ok());
  daemon::CrlLoader loader(*app_);
  app_->crl().MarkForReload("iss-local");  // heard of, not loaded yet
  EXPECT_EQ(number(), before);
  EXPECT_EQ(app_->crl().Loads(), 0);
  loader.Start();
  loader.Reload("iss-local");
  EXPECT_TRUE(Eventually([&] { return loader.passes() >= 1; }));
  EXPECT_EQ(app_->crl().Loads(), 1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(number(), before + 1);
  EXPECT_EQ(app_->crl().Loads(), 1);
  loader.Stop();
}

// A CA rotation notifies every certctld ({"scope":"all","issuer":...}); a
// running process then serves and issues with the new generation, and keeps
// serving the old one at its own URL, without a restart.
TEST_F(SchedulersTest, ANewGenerationIsServedAfterItsNotifyWithoutARestart) {
  daemon::InvalidationWatcher watcher(*app_, nullptr);
  watcher.Start();
  ASSERT_TRUE(Eventually([&] { return watcher.listening(); }));
  auto verifies_with = [&](const std::string& target, const std::string& ca) {
    auto r = Get(target, "");
    if (r.status != 200) return false;
    std::string crl = WriteFile("served.crl", std::string(r.Body()));
    auto v = Command(
        {"openssl", "crl", "-inform", "DER", "-in", crl, "-CAfile", ca, "-noout"});
    return v.exit_code == 0 && v.output.find("verify OK") != std::string::npos;
  };
  ASSERT_TRUE(verifies_with("/.well-known/pki/crl/iss-local", ca_cert_path_));
  auto g2 = RotateByHand();
  ASSERT_FALSE(HasFatalFailure());
  // Until it hears of the switch, this process may serve generation 1 from
  // memory; the rotation's NOTIFY ends that.
  Sql(url_,
      "SELECT pg_notify('certctl_invalidate', "
      "'{\"scope\":\"all\",\"issuer\":\"iss-local\"}')");
  EXPECT_TRUE(Eventually(
      [&] { return verifies_with("/.well-known/pki/crl/iss-local", g2.cert_path); }));
  EXPECT_TRUE(verifies_with("/.well-known/pki/crl/iss-local/1", ca_cert_path_));
  EXPECT_TRUE(verifies_with("/.well-known/pki/crl/iss-local/2", g2.cert_path));
  auto issued = Post(
      "/api/v1/certificates",
      nlohmann::json{{"generate_key", true}, {"common_name", "after.example"}}.dump());
  ASSERT_EQ(issued.status, 201) << issued.body;
  auto body = Json(issued);
  EXPECT_EQ(body["generation"], 2) << issued.body;
  std::string leaf = WriteFile("after.crt", body["certificate"].get<std::string>());
  auto verify = Command({"openssl", "verify", "-CAfile", g2.cert_path, leaf});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  watcher.Stop();
}

TEST_F(SchedulersTest, DatabaseMonitorReportsReachability) {
  daemon::DatabaseMonitor monitor(*app_);
  app_->readiness().SetDatabaseUp(false);
  EXPECT_TRUE(monitor.CheckOnce());
  EXPECT_TRUE(app_->readiness().database_up());
}

TEST_F(SchedulersTest, MaintenanceBootstrapsRespondersAndExportsExpiry) {
  daemon::Maintenance maintenance(*app_, [] { return true; });
  Status s = maintenance.RotateResponders();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count("ocsp_responder_certs"), 1);
  // Audited like the operator's reset would be, as certctld's own work; the
  // next pass finds it usable and writes nothing.
  const std::string events =
      "SELECT string_agg(outcome || ' ' || actor || ' ' || (parameters::jsonb ->> "
      "'action'), ',' ORDER BY id) FROM audit_events WHERE action = "
      "'ocsp.ensure-responder' AND target = 'iss-local/g1'";
  EXPECT_EQ(Sql(url_, events),
            "started certctld bootstrapped,succeeded certctld bootstrapped");
  EXPECT_TRUE(maintenance.RotateResponders().ok());
  EXPECT_EQ(Sql(url_, events),
            "started certctld bootstrapped,succeeded certctld bootstrapped");
  double expiry =
      app_->metrics().Value("certctl_ocsp_responder_not_after_timestamp_seconds",
                            {{"issuer", "iss-local"}, {"generation", "1"}});
  auto now = ToUnixSeconds(std::chrono::system_clock::now());
  EXPECT_GT(expiry, static_cast<double>(now));
  EXPECT_TRUE(maintenance.CacheUpkeep().ok());
}

}  // namespace
}  // namespace certctl::testing
