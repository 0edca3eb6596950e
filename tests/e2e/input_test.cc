// Issue 8's input findings against the real certctld: the caIssuers pointer
// leads to a certificate it serves, a CSR that used to reach PostgreSQL and
// come back as a 500 with the database's error text is a 400, and a reason
// that would un-revoke in a complete CRL is refused.
#include <openssl/x509v3.h>

#include "certctl/util/files.h"
#include "e2e/e2e_fixture.h"
#include "support/test_pki.h"

namespace certctl::e2e {
namespace {

class InputTest : public E2eTest {};

TEST_F(InputTest, CaIssuersLeadsToTheIssuingCaCertificate) {
  Instance d = Start();
  ASSERT_FALSE(Issue(d, "aia").empty());
  Output aia = Exec({"openssl", "x509", "-in", Path("aia.crt"), "-noout", "-ext",
                     "authorityInfoAccess"});
  const std::string marker = "CA Issuers - URI:";
  size_t at = aia.text.find(marker);
  ASSERT_NE(at, std::string::npos) << aia.text;
  std::string url = aia.text.substr(at + marker.size());
  url = url.substr(0, url.find_first_of("\r\n"));
  EXPECT_EQ(url, d.pki + "/.well-known/pki/ca/iss-local/1");
  // As a client chasing AIA: fetch, convert, verify the leaf with it.
  Output got = Curl({"-f", "-o", Path("issuer.der"), "-w", "%{content_type}", url});
  ASSERT_EQ(got.exit_code, 0) << got.text;
  EXPECT_EQ(got.text, "application/pkix-cert");
  ASSERT_EQ(Exec({"openssl", "x509", "-inform", "DER", "-in", Path("issuer.der"), "-out",
                  Path("issuer.pem")})
                .exit_code,
            0);
  Output verify =
      Exec({"openssl", "verify", "-CAfile", Path("issuer.pem"), Path("aia.crt")});
  EXPECT_EQ(verify.exit_code, 0) << verify.text;
  Output same = Exec({"openssl", "x509", "-in", Path("issuer.pem"), "-noout",
                      "-fingerprint", "-sha256"});
  Output ours =
      Exec({"openssl", "x509", "-in", ca_cert_, "-noout", "-fingerprint", "-sha256"});
  EXPECT_EQ(same.text, ours.text);
}

TEST_F(InputTest, HostileCsrIsA400WithoutDatabaseText) {
  Instance d = Start();
  struct Case {
    const char* name;
    testing::CsrSpec spec;
  } cases[] = {
      {"0xFF in an e-mail SAN",
       {.subject = {testing::Cn("ff.example")},
        .sans = {{GEN_EMAIL, "a\xff@example.com"}}}},
      {"0xFF in the CN", {.subject = {testing::Cn("a\xff.example")}}},
      {"NUL in the CN", {.subject = {testing::Cn(std::string("a\0b.example", 11))}}},
  };
  for (const auto& c : cases) {
    HttpResult r = Api(d, "POST", "/api/v1/certificates",
                       nlohmann::json{{"csr", testing::CsrPem(c.spec)}}.dump());
    EXPECT_EQ(r.status, 400) << c.name << ": " << r.body;
    // PostgreSQL's "ERROR:  invalid byte sequence for encoding ..." and what
    // certctl put around it.
    for (const char* leak :
         {"ERROR:", "SQLSTATE", "invalid byte sequence", "insert certificate"}) {
      EXPECT_EQ(r.body.find(leak), std::string::npos) << c.name << ": " << r.body;
    }
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM certificates"), "0");
}

TEST_F(InputTest, RemoveFromCrlIsRefusedAndTheCertificateStaysGood) {
  Instance d = Start();
  std::string serial = Issue(d, "keep");
  ASSERT_FALSE(serial.empty());
  HttpResult r = Api(d, "POST", "/api/v1/certificates/" + serial + "/revoke",
                     R"({"reason": "removeFromCRL"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("delta CRL"), std::string::npos) << r.body;
  Output ocsp = Ocsp(d.pki + "/.well-known/pki/ocsp/iss-local", Path("keep.crt"));
  EXPECT_NE(ocsp.text.find(": good"), std::string::npos) << ocsp.text;
  EXPECT_EQ(Sql("SELECT count(*) FROM certificate_revocations"), "0");
}

}  // namespace
}  // namespace certctl::e2e
