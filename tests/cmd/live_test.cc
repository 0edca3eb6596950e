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
  std::string bundle = *dir_ / "est.pem";
  std::string first = CaPem("first", now - hours(1), now + hours(24));
  ASSERT_TRUE(WriteFileAtomic(bundle, first, {.mode = 0644}).ok());
  std::string config = *dir_ / "daemon.yaml";
  ASSERT_TRUE(WriteFileAtomic(config,
                              "trust_anchors:\n  - name: est\n    path: " + bundle + "\n",
                              {.mode = 0600})
                  .ok());
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

}  // namespace
}  // namespace certctl
