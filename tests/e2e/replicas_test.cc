// Issue 3 "Done when", third paragraph: two certctld on one database.
#include "e2e/e2e_fixture.h"

namespace certctl::e2e {
namespace {

class ReplicasTest : public E2eTest {};

TEST_F(ReplicasTest, RevocationThroughOneIsSeenByTheOtherAndOneGeneratesTheCrl) {
  Instance a = Start();
  Instance b = Start();
  ASSERT_TRUE(a.process->Running() && b.process->Running());
  std::string serial = Issue(a, "shared");
  ASSERT_FALSE(serial.empty());
  std::string cert = Path("shared.crt");
  std::string url_b = b.pki + "/.well-known/pki/ocsp/iss-local";
  // B answers (and caches in memory) good first: the revocation must reach
  // its memory through NOTIFY, not by luck.
  ASSERT_NE(Ocsp(url_b, cert, /*no_nonce=*/true).text.find(cert + ": good"),
            std::string::npos);
  ASSERT_NE(Ocsp(url_b, cert, /*no_nonce=*/true).text.find(cert + ": good"),
            std::string::npos);
  std::string events_before =
      Sql("SELECT coalesce(max(id), 0) FROM crl_generation_events");

  HttpResult revoked = Api(a, "POST", "/api/v1/certificates/" + serial + "/revoke",
                           R"({"reason": "affiliationChanged"})");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  auto at = std::chrono::steady_clock::now();
  bool seen = Eventually(
      [&] {
        Output o = Ocsp(url_b, cert, /*no_nonce=*/true);
        return o.text.find(cert + ": revoked") != std::string::npos &&
               o.text.find("Reason: affiliationChanged") != std::string::npos;
      },
      std::chrono::seconds(5));
  auto took = std::chrono::steady_clock::now() - at;
  EXPECT_TRUE(seen);
  EXPECT_LT(took, std::chrono::seconds(2))
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";

  // Both serve a CRL listing it...
  for (const auto* d : {&a, &b}) {
    Output crl;
    EXPECT_TRUE(Eventually(
        [&] {
          crl = FetchCrl(d->pki, "replica-crl");
          return crl.text.find("Serial Number: " + UpperHex(serial)) != std::string::npos;
        },
        std::chrono::seconds(10)))
        << crl.text;
  }
  // ...generated once, by one of them.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::string where = " FROM crl_generation_events WHERE id > " + events_before;
  EXPECT_EQ(Sql("SELECT count(*)" + where + " AND trigger = 'revocation'"), "1");
  EXPECT_EQ(Sql("SELECT count(DISTINCT runner)" + where), "1");
  EXPECT_EQ(Sql("SELECT count(*) - count(DISTINCT crl_number)" + where), "0");
  std::string runner = Sql("SELECT runner" + where + " LIMIT 1");
  std::string pid_a = std::to_string(a.process->pid()),
              pid_b = std::to_string(b.process->pid());
  EXPECT_TRUE(runner.ends_with(":" + pid_a) || runner.ends_with(":" + pid_b)) << runner;

  // The other takes over the scheduler when the first goes away.
  Instance& leader = runner.ends_with(":" + pid_a) ? a : b;
  Instance& follower = &leader == &a ? b : a;
  EXPECT_EQ(Stop(leader), 0);
  std::string second = Issue(follower, "after");
  ASSERT_FALSE(second.empty());
  ASSERT_EQ(
      Api(follower, "POST", "/api/v1/certificates/" + second + "/revoke", "{}").status,
      200);
  Output crl;
  EXPECT_TRUE(Eventually(
      [&] {
        crl = FetchCrl(follower.pki, "takeover-crl");
        return crl.text.find("Serial Number: " + UpperHex(second)) != std::string::npos;
      },
      std::chrono::seconds(15)))
      << crl.text << follower.process->Log();
}

}  // namespace
}  // namespace certctl::e2e
