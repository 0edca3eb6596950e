// certctl-admin against a running certctld: the --url checks and trust
// reload through the admin API (and the SIGHUP fallback).
#include <gtest/gtest.h>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "cmd/admin_fixture.h"
#include "support/test_pki.h"

namespace certctl {
namespace {

using testing::Sql;

using std::chrono::hours;

class LiveTest : public testing::AdminTest {
 protected:
  // The admin's view of the daemon: same database and CA, its URLs and key.
  std::vector<std::string> DaemonEnv(const testing::RunningDaemon& d) {
    return {"CERTCTL_BASE_URL=" + d.pki,
            "CERTCTL_LISTEN_API=" + d.env.at("CERTCTL_LISTEN_API"),
            "CERTCTL_API_KEY=" + api_key_,
            "CERTCTL_PID_FILE=" + d.env.at("CERTCTL_PID_FILE")};
  }
  std::string CaPem(const std::string& cn, TimePoint not_before, TimePoint not_after) {
    return testing::SelfSignedCaPem(cn, not_before, not_after);
  }
  // A config naming bundle "est" at <dir>/est.pem, which holds `pem`.
  std::string TrustConfig(const std::string& pem) {
    bundle_ = *dir_ / "est.pem";
    EXPECT_TRUE(WriteFileAtomic(bundle_, pem, {.mode = 0644}).ok());
    std::string config = *dir_ / "daemon.yaml";
    EXPECT_TRUE(WriteFileAtomic(
                    config, "trust_anchors:\n  - name: est\n    path: " + bundle_ + "\n",
                    {.mode = 0600})
                    .ok());
    return config;
  }
  std::string bundle_;
};

TEST_F(LiveTest, CrlVerifyAndOcspCheckAgainstCertctld) {
  std::string good = Issue("live-good.example").serial;
  std::string bad = Issue("live-bad.example").serial;
  auto d = StartDaemon();
  ASSERT_NE(d, nullptr);
  auto env = DaemonEnv(*d);
  Revoke(bad, "superseded");
  std::string ocsp_url = d->pki + "/.well-known/pki/ocsp/iss-local";

  // The served CRL lists exactly the database's revocations (the daemon
  // regenerates shortly after a revocation).
  ASSERT_TRUE(testing::Eventually([&] {
    return Admin({"crl", "verify", "iss-local"}, env).exit_code == 0;
  })) << Admin({"crl", "verify", "iss-local"}, env).Both();
  auto verified = Admin({"-o", "json", "crl", "verify", "iss-local"}, env);
  EXPECT_EQ(verified.json["data"]["database_revoked_count"], 1) << verified.out;
  EXPECT_EQ(verified.json["data"]["url"], d->pki + "/.well-known/pki/crl/iss-local");
  auto explicit_url = Admin(
      {"crl", "verify", "iss-local", "--url", d->pki + "/.well-known/pki/crl/iss-local"});
  EXPECT_EQ(explicit_url.exit_code, 0) << explicit_url.Both();
  EXPECT_EQ(Admin({"crl", "verify", "iss-nope"}, env).exit_code, 2);

  // OCSP answers from the live responder agree with the database.
  auto g = Admin({"-o", "json", "ocsp", "check", "iss-local", good, "--url", ocsp_url});
  EXPECT_EQ(g.exit_code, 0) << g.Both();
  EXPECT_EQ(g.json["data"]["responder"]["status"], "good");
  EXPECT_EQ(g.json["data"]["responder"]["source"], "fetcher");
  ASSERT_TRUE(testing::Eventually([&] {
    auto r = Admin({"-o", "json", "ocsp", "check", "iss-local", bad, "--url", ocsp_url});
    return r.exit_code == 0 && r.json["data"]["responder"]["status"] == "revoked";
  }));

  // A replaced responder is what the live responder signs with afterwards.
  auto reset = Admin(
      {"-o", "json", "ocsp", "reset-responder", "iss-local", "--yes", "--url", ocsp_url});
  EXPECT_EQ(reset.exit_code, 0) << reset.Both();
  EXPECT_EQ(reset.json["data"]["live_check"]["responder"]["responder_serial"],
            reset.json["data"]["responder"]["serial"])
      << reset.out;

  // Nothing listening: 69.
  std::string nowhere = "http://127.0.0.1:" + std::to_string(e2e::FreePort());
  EXPECT_EQ(Admin({"crl", "verify", "iss-local", "--url", nowhere + "/crl"}).exit_code,
            69);
  auto unreachable = Admin({"ocsp", "check", "iss-local", good, "--url", nowhere});
  EXPECT_EQ(unreachable.exit_code, 69) << unreachable.Both();
}

// The runbook's trust-bundle semantics end to end: a bad bundle is refused
// with its typed error and the old pool stays; a good one is taken.
TEST_F(LiveTest, TrustReloadGetsTheTypedErrorAndTheOldPoolStays) {
  auto now = std::chrono::system_clock::now();
  std::string first = CaPem("first", now - hours(1), now + hours(24));
  std::string config = TrustConfig(first);
  std::string bundle = bundle_;
  auto d = StartDaemon({{"CONFIG", config}});
  ASSERT_NE(d, nullptr);
  auto env = DaemonEnv(*d);
  std::string good_fingerprint = Sha256Hex(first);

  // The operator overwrites the file with garbage and asks for a reload.
  ASSERT_TRUE(WriteFileAtomic(bundle,
                              "-----BEGIN CERTIFICATE-----\nnope\n"
                              "-----END CERTIFICATE-----\n",
                              {.mode = 0644, .keep_backup = false})
                  .ok());
  EXPECT_EQ(Admin({"trust", "check", bundle}).exit_code, 1);
  auto refused = Admin({"-o", "json", "trust", "reload", "est"}, env);
  EXPECT_EQ(refused.exit_code, 1) << refused.Both();
  ASSERT_FALSE(refused.json["findings"].empty()) << refused.out;
  EXPECT_EQ(refused.json["findings"][0]["code"], "trust.garbage") << refused.out;
  ASSERT_FALSE(refused.json["data"]["bundles"].empty()) << refused.out;
  EXPECT_EQ(refused.json["data"]["bundles"][0]["reloaded"], false);
  EXPECT_EQ(refused.json["data"]["bundles"][0]["fingerprint"], good_fingerprint)
      << "the old pool must stay";
  auto text = Admin({"trust", "reload", "est"}, env);
  EXPECT_NE(text.out.find("refused"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("previous bundle stays"), std::string::npos) << text.out;

  // Fixed file: reloaded, and the new pool is in place.
  std::string second = CaPem("second", now - hours(1), now + hours(24));
  ASSERT_TRUE(WriteFileAtomic(bundle, second, {.mode = 0644, .keep_backup = false}).ok());
  auto reloaded = Admin({"-o", "json", "trust", "reload", "est"}, env);
  EXPECT_EQ(reloaded.exit_code, 0) << reloaded.Both();
  EXPECT_EQ(reloaded.json["data"]["bundles"][0]["fingerprint"], Sha256Hex(second));
  EXPECT_EQ(Admin({"trust", "reload", "--all"}, env).exit_code, 0);
  EXPECT_EQ(AuditOutcomes("trust.reload.request"),
            "started,failed,started,failed,started,succeeded,started,succeeded");

  // Unknown name: 2; wrong key: 78; --signal: SIGHUP by pid file.
  EXPECT_EQ(Admin({"trust", "reload", "nope"}, env).exit_code, 2);
  auto wrong_key = env;
  wrong_key.push_back("CERTCTL_API_KEY=wrong");
  EXPECT_EQ(Admin({"trust", "reload", "est"}, wrong_key).exit_code, 78);
  auto no_key = env;
  no_key.push_back("CERTCTL_API_KEY=");
  EXPECT_EQ(Admin({"trust", "reload", "est"}, no_key).exit_code, 78);
  auto signalled = Admin({"trust", "reload", "--signal"}, env);
  EXPECT_EQ(signalled.exit_code, 0) << signalled.Both();
  EXPECT_NE(signalled.out.find("SIGHUP"), std::string::npos) << signalled.out;
  EXPECT_TRUE(d->process->Running());
}

// Each way of asking ends with the exit status of what happened (issue 12):
// a refusal is 1 through the API, by SIGHUP and as a dry run's prediction;
// a SIGHUP and a dry run need no database.
TEST_F(LiveTest, TrustReloadExitsWithItsOutcomeHoweverItIsAsked) {
  auto now = std::chrono::system_clock::now();
  std::string good = CaPem("good", now - hours(1), now + hours(24));
  std::string config = TrustConfig(good);
  std::string bundle = bundle_;
  auto d = StartDaemon({{"CONFIG", config}});
  ASSERT_NE(d, nullptr);
  auto env = DaemonEnv(*d);
  testing::TempDir nowhere;
  auto outage = env;  // the admin's database is unreachable
  outage.push_back("CERTCTL_DATABASE_URL=host=" + nowhere.path() +
                   " dbname=certctl connect_timeout=2");
  auto run = [&](std::vector<std::string> args, const std::vector<std::string>& e) {
    args.insert(args.begin(), {"--config", config, "-o", "json", "trust", "reload"});
    return Admin(args, e);
  };

  // Good file: 0 every way, the SIGHUP one with certctld's own account.
  for (const auto& e : {env, outage}) {
    auto signalled = run({"--signal"}, e);
    EXPECT_EQ(signalled.exit_code, 0) << signalled.Both();
    ASSERT_EQ(signalled.json["data"]["bundles"].size(), 1u) << signalled.out;
    EXPECT_EQ(signalled.json["data"]["bundles"][0]["reloaded"], true);
    EXPECT_EQ(signalled.json["data"]["bundles"][0]["fingerprint"], Sha256Hex(good));
    auto dry = run({"--dry-run"}, e);
    EXPECT_EQ(dry.exit_code, 0) << dry.Both();
    EXPECT_EQ(dry.json["data"]["bundles"][0]["reloaded"], true) << dry.out;
  }
  EXPECT_EQ(run({}, env).exit_code, 0);

  // Garbage: 1 every way, the same finding, the old bundle kept.
  ASSERT_TRUE(
      WriteFileAtomic(bundle, "garbage\n", {.mode = 0644, .keep_backup = false}).ok());
  std::vector<std::pair<std::string, testing::AdminRun>> refusals = {
      {"api", run({}, env)},
      {"signal", run({"--signal"}, env)},
      {"signal, database down", run({"--signal"}, outage)},
      {"dry run", run({"--dry-run"}, env)},
      {"dry run, database down", run({"--dry-run"}, outage)}};
  for (const auto& [how, r] : refusals) {
    EXPECT_EQ(r.exit_code, 1) << how << r.Both();
    ASSERT_FALSE(r.json["findings"].empty()) << how << r.out;
    EXPECT_EQ(r.json["findings"][0]["code"], "trust.garbage") << how << r.out;
    EXPECT_EQ(r.json["findings"][0]["severity"], "error") << how;
    ASSERT_EQ(r.json["data"]["bundles"].size(), 1u) << how << r.out;
    EXPECT_EQ(r.json["data"]["bundles"][0]["reloaded"], false) << how;
  }
  EXPECT_EQ(refusals[1].second.json["data"]["bundles"][0]["fingerprint"], Sha256Hex(good))
      << "the old pool must stay";
  // Only the request through the API wrote an audit event here.
  EXPECT_EQ(AuditOutcomes("trust.reload.request"), "started,succeeded,started,failed");

  // A bundle certctld does not have: 2 by SIGHUP, by API and in a dry run.
  EXPECT_EQ(run({"nope", "--signal"}, env).exit_code, 2);
  EXPECT_EQ(run({"nope"}, env).exit_code, 2);
  EXPECT_EQ(run({"nope", "--dry-run"}, env).exit_code, 2);
  EXPECT_TRUE(d->process->Running());
}

// No bundle configured: nothing to reload is a warning, exit 0, whether it
// is asked for or only planned.
TEST_F(LiveTest, TrustReloadWithNoBundlesIsTheSameInADryRun) {
  auto d = StartDaemon();
  ASSERT_NE(d, nullptr);
  auto env = DaemonEnv(*d);
  for (std::vector<std::string> args : {std::vector<std::string>{},
                                        {"--dry-run"},
                                        {"--signal"},
                                        {"--signal", "--dry-run"}}) {
    args.insert(args.begin(), {"-o", "json", "trust", "reload"});
    auto r = Admin(args, env);
    EXPECT_EQ(r.exit_code, 0) << r.Both();
    ASSERT_EQ(r.json["findings"].size(), 1u) << r.out;
    EXPECT_EQ(r.json["findings"][0]["code"], "trust.none_configured") << r.out;
    EXPECT_EQ(r.json["findings"][0]["severity"], "warning");
  }
}

// A pid file naming a process that is not certctld (it ignores SIGHUP and
// writes no record): 69 after --timeout, saying so, instead of 0.
TEST_F(LiveTest, TrustReloadBySignalWithoutAnAnswerIsUnavailable) {
  e2e::BackgroundProcess impostor({"/bin/sh", "-c", "trap '' HUP; exec sleep 60"}, {},
                                  *dir_ / "impostor.log");
  ASSERT_TRUE(impostor.Start().ok());
  // Ignoring SIGHUP from here on (the shell sets the trap, sleep inherits it).
  ASSERT_TRUE(testing::Eventually([&] {
    auto comm = ReadFile("/proc/" + std::to_string(impostor.pid()) + "/comm");
    return comm.ok() && *comm == "sleep\n";
  }));
  std::string pid_file = *dir_ / "impostor.pid";
  ASSERT_TRUE(
      WriteFileAtomic(pid_file, std::to_string(impostor.pid()) + "\n", {.mode = 0644})
          .ok());
  auto r = Admin({"--timeout", "1s", "trust", "reload", "--signal"},
                 {"CERTCTL_PID_FILE=" + pid_file});
  EXPECT_EQ(r.exit_code, 69) << r.Both();
  EXPECT_NE(r.err.find("reported no reload"), std::string::npos) << r.err;
  EXPECT_TRUE(impostor.Running());
}

}  // namespace
}  // namespace certctl
