// Issue 3 "Done when", second paragraph: every fail-safe of the runbook,
// provoked the way things break in production and checked like an operator.
#include <filesystem>
#include <thread>

#include "certctl/util/files.h"
#include "e2e/e2e_fixture.h"

namespace certctl::e2e {
namespace {

class FailSafeTest : public E2eTest {
 protected:
  // The CRL certctld serves now parses, verifies and is not expired.
  bool ServedCrlIsGood(const Instance& d) {
    Output crl = FetchCrl(d.pki, "served");
    EXPECT_EQ(crl.exit_code, 0) << crl.text;
    EXPECT_NE(crl.text.find("verify OK"), std::string::npos) << crl.text;
    Output expiry = Exec({"openssl", "crl", "-inform", "DER", "-in", Path("served.der"),
                          "-noout", "-nextupdate"});
    EXPECT_EQ(expiry.exit_code, 0) << expiry.text;
    Output checked = Exec({"openssl", "verify", "-crl_check", "-CAfile", ca_cert_,
                           "-CRLfile", PemOf("served.der"), Path("leaf.crt")});
    // An expired CRL makes openssl say "CRL has expired".
    EXPECT_EQ(checked.text.find("CRL has expired"), std::string::npos) << checked.text;
    return crl.exit_code == 0 && crl.text.find("verify OK") != std::string::npos &&
           expiry.exit_code == 0 &&
           checked.text.find("CRL has expired") == std::string::npos;
  }
  // Every CRL served until the daemon has replaced the corrupt row with a
  // fresh, verified CRL (and at least twice) is good: the corrupt row is
  // never served.
  void ExpectOnlyGoodCrlsUntilRepaired(const Instance& d) {
    int fetched = 0;
    bool bad = false;
    bool repaired = Eventually([&] {
      bad = bad || !ServedCrlIsGood(d);
      if (++fetched < 2 || bad) return bad;
      Output row = CachedRowVerifies();
      return row.exit_code == 0 && row.text.find("verify OK") != std::string::npos &&
             Sql("SELECT next_update > now() FROM crl_cache WHERE generation = 1") == "t";
    });
    EXPECT_FALSE(bad) << "a corrupt CRL was served";
    EXPECT_TRUE(repaired) << "the row was not replaced";
  }
  std::string PemOf(const std::string& der_name) {
    std::string pem = Path(der_name + ".pem");
    Exec({"openssl", "crl", "-inform", "DER", "-in", Path(der_name), "-out", pem});
    return pem;
  }
  // Tells running daemons to look at crl_cache again, as `certctl-admin
  // cache truncate` does after changing it.
  void NotifyCrl() {
    Sql("SELECT pg_notify('certctl_invalidate', "
        "'{\"scope\":\"crl\",\"issuer\":\"iss-local\"}')");
  }
  // The row as the daemon would read it, verified with openssl.
  Output CachedRowVerifies() {
    std::string hex =
        Sql("SELECT encode(crl_der, 'hex') FROM crl_cache WHERE issuer_id = "
            "'iss-local' AND generation = 1");
    std::string der;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
      der.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    EXPECT_TRUE(WriteFileAtomic(Path("row.der"), der, {.keep_backup = false}).ok());
    return Exec({"openssl", "crl", "-inform", "DER", "-in", Path("row.der"), "-CAfile",
                 ca_cert_, "-noout"});
  }
  // A CRL of the right CA and number that expires one second after it is made
  // (openssl ca, as an attacker or a broken restore could leave behind).
  std::string ExpiredCrlHex() {
    int64_t number =
        std::stoll(Sql("SELECT crl_number FROM crl_cache WHERE generation = 1"));
    char hex[32];
    std::snprintf(hex, sizeof hex, "%02llX\n", static_cast<unsigned long long>(number));
    EXPECT_TRUE(WriteFileAtomic(Path("crlnumber"), hex, {.keep_backup = false}).ok());
    EXPECT_TRUE(WriteFileAtomic(Path("index.txt"), "", {.keep_backup = false}).ok());
    EXPECT_TRUE(WriteFileAtomic(
                    Path("ca.cnf"),
                    "[ca]\ndefault_ca = e2e\n[e2e]\ndatabase = " + Path("index.txt") +
                        "\ncrlnumber = " + Path("crlnumber") + "\ndefault_md = sha256\n",
                    {.keep_backup = false})
                    .ok());
    Output made =
        Exec({"openssl", "ca", "-config", Path("ca.cnf"), "-gencrl", "-keyfile", ca_key_,
              "-cert", ca_cert_, "-crlsec", "1", "-out", Path("expired.pem")});
    EXPECT_EQ(made.exit_code, 0) << made.text;
    Output der = Exec({"openssl", "crl", "-in", Path("expired.pem"), "-outform", "DER",
                       "-out", Path("expired.der")});
    EXPECT_EQ(der.exit_code, 0) << der.text;
    // Until it has expired, as openssl sees it.
    EXPECT_TRUE(Eventually([&] {
      return Exec({"openssl", "verify", "-crl_check", "-CAfile", ca_cert_, "-CRLfile",
                   Path("expired.pem"), Path("leaf.crt")})
                 .text.find("CRL has expired") != std::string::npos;
    }));
    auto bytes = ReadFile(Path("expired.der"));
    std::string out;
    static const char* digits = "0123456789abcdef";
    for (unsigned char c : bytes.ok() ? *bytes : std::string()) {
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
    return out;
  }
};

TEST_F(FailSafeTest, CorruptCrlCacheRowsAreNeverServed) {
  Instance d = Start();
  ASSERT_FALSE(Issue(d, "leaf").empty());
  ASSERT_EQ(FetchCrl(d.pki, "first").exit_code, 0);

  struct Corruption {
    const char* what;
    std::function<std::string()> sql;
  } corruptions[] = {
      {"garbage bytes",
       [] { return std::string("UPDATE crl_cache SET crl_der = '\\xdeadbeef'"); }},
      {"wrong signature",
       [] {
         // Flip the last byte of the signature: still DER, no longer signed.
         return std::string(
             "UPDATE crl_cache SET crl_der = overlay(crl_der placing "
             "set_byte('\\x00'::bytea, 0, get_byte(crl_der, length(crl_der) - 1) # 1) "
             "from length(crl_der) for 1)");
       }},
      {"expired",
       [this] {
         return "UPDATE crl_cache SET crl_der = decode('" + ExpiredCrlHex() +
                "', 'hex'), this_update = now() - interval '1 hour', next_update = now() "
                "- "
                "interval '1 second'";
       }},
  };
  for (const auto& c : corruptions) {
    SCOPED_TRACE(c.what);
    Sql(c.sql());
    if (std::string(c.what) != "expired") {  // `openssl crl` does not look at the dates
      ASSERT_EQ(CachedRowVerifies().text.find("verify OK"), std::string::npos)
          << "the corruption did not take";
    }
    NotifyCrl();
    ExpectOnlyGoodCrlsUntilRepaired(d);
  }
  EXPECT_NE(Sql("SELECT count(*) FROM crl_generation_events WHERE succeeded"), "0");
}

TEST_F(FailSafeTest, DeletedResponderRowAndKeyAreBootstrapped) {
  Instance d = Start();
  ASSERT_FALSE(Issue(d, "leaf").empty());
  std::string url = d.pki + "/.well-known/pki/ocsp/iss-local";
  ASSERT_NE(Ocsp(url, Path("leaf.crt")).text.find(": good"), std::string::npos);
  std::string key = Sql("SELECT key_path FROM ocsp_responder_certs");
  ASSERT_TRUE(std::filesystem::exists(key));
  std::string old_serial = Sql("SELECT serial_number FROM ocsp_responder_certs");

  // The runbook's recovery: delete the row and the key file.
  Sql("DELETE FROM ocsp_responder_certs WHERE issuer_id = 'iss-local'");
  std::filesystem::remove(key);
  // The next request (a nonce: signed now) bootstraps a new responder.
  Output o = Ocsp(url, Path("leaf.crt"));
  EXPECT_NE(o.text.find(Path("leaf.crt") + ": good"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("Response verify OK"), std::string::npos) << o.text;
  EXPECT_EQ(Sql("SELECT count(*) FROM ocsp_responder_certs"), "1");
  EXPECT_NE(Sql("SELECT serial_number FROM ocsp_responder_certs"), old_serial);
  key = Sql("SELECT key_path FROM ocsp_responder_certs");
  EXPECT_EQ(key.rfind(Path("ocsp-responder-keys/iss-local-g1-"), 0), 0u) << key;
  ASSERT_TRUE(std::filesystem::exists(key));
  auto mode = std::filesystem::status(key).permissions();
  EXPECT_EQ(mode,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(FailSafeTest, DeletedOcspCacheRebuilds) {
  Instance d = Start();
  ASSERT_FALSE(Issue(d, "leaf").empty());
  std::string url = d.pki + "/.well-known/pki/ocsp/iss-local";
  ASSERT_NE(Ocsp(url, Path("leaf.crt"), /*no_nonce=*/true).text.find(": good"),
            std::string::npos);
  // certctld writes answers back in batches, off the request path.
  EXPECT_TRUE(
      Eventually([&] { return Sql("SELECT count(*) FROM ocsp_response_cache") == "1"; }));
  // The runbook: DELETE FROM ocsp_response_cache; it rebuilds as relying
  // parties query (here a fresh certctld, whose memory is empty too).
  EXPECT_EQ(Stop(d), 0);
  Sql("DELETE FROM ocsp_response_cache");
  Instance again = Start();
  url = again.pki + "/.well-known/pki/ocsp/iss-local";
  Output o = Ocsp(url, Path("leaf.crt"), /*no_nonce=*/true);
  EXPECT_NE(o.text.find(Path("leaf.crt") + ": good"), std::string::npos) << o.text;
  EXPECT_TRUE(
      Eventually([&] { return Sql("SELECT count(*) FROM ocsp_response_cache") == "1"; }));
}

TEST_F(FailSafeTest, PostgresOutage) {
  Instance d = Start();
  ASSERT_FALSE(Issue(d, "leaf").empty());
  std::string victim = Issue(d, "victim");
  ASSERT_FALSE(victim.empty());
  std::string url = d.pki + "/.well-known/pki/ocsp/iss-local";
  // Relying parties' usual requests (no nonce) are cached in memory.
  ASSERT_NE(Ocsp(url, Path("leaf.crt"), true).text.find(": good"), std::string::npos);
  ASSERT_EQ(FetchCrl(d.pki, "before").exit_code, 0);

  ASSERT_TRUE(testing::TestCluster::Get().Stop().ok());
  EXPECT_TRUE(WaitReady(d, 503, std::chrono::seconds(15))) << d.process->Log();
  for (int i = 0; i < 3; ++i) {
    Output o = Ocsp(url, Path("leaf.crt"), true);
    EXPECT_NE(o.text.find(Path("leaf.crt") + ": good"), std::string::npos) << o.text;
    Output crl = FetchCrl(d.pki, "during");
    EXPECT_NE(crl.text.find("verify OK"), std::string::npos) << crl.text;
  }
  // Something that needs the database says so instead of inventing an answer.
  EXPECT_EQ(Api(d, "GET", "/api/v1/issuers").status, 503);

  ASSERT_TRUE(testing::TestCluster::Get().Start().ok());
  EXPECT_TRUE(WaitReady(d, 200, std::chrono::seconds(20))) << d.process->Log();
  HttpResult revoked = Api(d, "POST", "/api/v1/certificates/" + victim + "/revoke",
                           R"({"reason": "cessationOfOperation"})");
  EXPECT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_TRUE(Eventually(
      [&] {
        return Ocsp(url, Path("victim.crt")).text.find(": revoked") != std::string::npos;
      },
      std::chrono::seconds(10)));
  // Logged once per change of state, not per request.
  std::string log = d.process->Log();
  size_t first = log.find("database unreachable, not ready");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("database unreachable, not ready", first + 1), std::string::npos)
      << log;
  EXPECT_NE(log.find("reachable again"), std::string::npos) << log;
}

}  // namespace
}  // namespace certctl::e2e
