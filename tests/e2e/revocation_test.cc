// Issue 3 "Done when", first paragraph: issue, good over POST and GET,
// revoke via the API, revoked with the reason on both listeners, the CRL
// verifies and lists the serial, openssl verify -crl_check rejects the
// certificate, a serial never issued is unknown, the nonce comes back.
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "e2e/e2e_fixture.h"

namespace certctl::e2e {
namespace {

class RevocationTest : public E2eTest {
 protected:
  // The GET form of RFC 6960 A.1 from `openssl ocsp -reqout`, sent with curl.
  Output OcspGet(const std::string& base, const std::string& cert) {
    std::string req = Path("get-req.der"), resp = Path("get-resp.der");
    Output made = Exec({"openssl", "ocsp", "-issuer", ca_cert_, "-cert", cert,
                        "-no_nonce", "-reqout", req});
    if (made.exit_code != 0) return made;
    auto der = ReadFile(req);
    if (!der.ok()) return {-1, der.status().ToString()};
    std::string encoded;
    for (char c : Base64Encode(*der)) {
      if (c == '/')
        encoded += "%2F";
      else if (c == '+')
        encoded += "%2B";
      else if (c == '=')
        encoded += "%3D";
      else
        encoded += c;
    }
    Output got =
        Curl({"-f", "-o", resp, base + "/.well-known/pki/ocsp/iss-local/" + encoded});
    if (got.exit_code != 0) return got;
    return Exec({"openssl", "ocsp", "-respin", resp, "-issuer", ca_cert_, "-cert", cert,
                 "-CAfile", ca_cert_, "-no_nonce", "-resp_text"});
  }
  // POST through the HTTPS listener with curl (openssl ocsp does not take
  // our CA for the TLS connection).
  Output OcspPostTls(const Instance& d, const std::string& cert) {
    std::string req = Path("tls-req.der"), resp = Path("tls-resp.der");
    Output made = Exec({"openssl", "ocsp", "-issuer", ca_cert_, "-cert", cert,
                        "-no_nonce", "-reqout", req});
    if (made.exit_code != 0) return made;
    Output got =
        Curl({"-f", "-H", "Content-Type: application/ocsp-request", "--data-binary",
              "@" + req, "-o", resp, d.api + "/.well-known/pki/ocsp/iss-local"});
    if (got.exit_code != 0) return got;
    return Exec({"openssl", "ocsp", "-respin", resp, "-issuer", ca_cert_, "-cert", cert,
                 "-CAfile", ca_cert_, "-no_nonce", "-resp_text"});
  }
};

TEST_F(RevocationTest, IssueCheckRevokeCheckAgain) {
  Instance d = Start();
  ASSERT_TRUE(d.process->Running());
  std::string serial = Issue(d, "leaf");
  ASSERT_FALSE(serial.empty());
  std::string cert = Path("leaf.crt");
  std::string ocsp_url = d.pki + "/.well-known/pki/ocsp/iss-local";

  // Fresh: good over POST (with openssl's nonce, echoed in responseExtensions)...
  Output post = Ocsp(ocsp_url, cert);
  EXPECT_NE(post.text.find(cert + ": good"), std::string::npos) << post.text;
  EXPECT_NE(post.text.find("Response verify OK"), std::string::npos) << post.text;
  size_t ext = post.text.find("Response Extensions:");
  ASSERT_NE(ext, std::string::npos) << post.text;
  EXPECT_NE(post.text.find("OCSP Nonce", ext), std::string::npos) << post.text;
  EXPECT_EQ(post.text.find("WARNING: no nonce"), std::string::npos) << post.text;
  // ...and over GET, and on the HTTPS listener.
  Output get = OcspGet(d.pki, cert);
  EXPECT_NE(get.text.find(cert + ": good"), std::string::npos) << get.text;
  Output tls = OcspPostTls(d, cert);
  EXPECT_NE(tls.text.find(cert + ": good"), std::string::npos) << tls.text;

  // A serial never issued is unknown, never good.
  Output unknown =
      Exec({"openssl", "ocsp", "-issuer", ca_cert_, "-serial", "0x5ca1ab1e0ddba11",
            "-url", ocsp_url, "-CAfile", ca_cert_, "-no_nonce"});
  EXPECT_NE(unknown.text.find("0x5ca1ab1e0ddba11: unknown"), std::string::npos)
      << unknown.text;

  // Revoke through the API; the serial in upper case with a leading zero.
  HttpResult revoked =
      Api(d, "POST", "/api/v1/certificates/0" + UpperHex(serial) + "/revoke",
          R"({"reason": "keyCompromise"})");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.json["revoked_by"], "api:default");
  EXPECT_EQ(Api(d, "POST", "/api/v1/certificates/" + serial + "/revoke",
                R"({"reason": "keyCompromise"})")
                .status,
            409);

  // Revoked with its reason, within seconds, on both listeners and both forms.
  EXPECT_TRUE(Eventually(
      [&] {
        Output o = Ocsp(ocsp_url, cert);
        return o.text.find(cert + ": revoked") != std::string::npos &&
               o.text.find("Reason: keyCompromise") != std::string::npos;
      },
      std::chrono::seconds(5)));
  get = OcspGet(d.pki, cert);
  EXPECT_NE(get.text.find(cert + ": revoked"), std::string::npos) << get.text;
  EXPECT_NE(get.text.find("Reason: keyCompromise"), std::string::npos) << get.text;
  tls = OcspPostTls(d, cert);
  EXPECT_NE(tls.text.find(cert + ": revoked"), std::string::npos) << tls.text;

  // The CRL verifies with the CA and lists the serial, on both listeners.
  for (const auto& base : {d.pki, d.api}) {
    Output crl;
    EXPECT_TRUE(Eventually(
        [&] {
          crl = FetchCrl(base, "crl");
          return crl.text.find("Serial Number: " + UpperHex(serial)) != std::string::npos;
        },
        std::chrono::seconds(10)))
        << crl.text;
    EXPECT_NE(crl.text.find("verify OK"), std::string::npos) << crl.text;
    EXPECT_NE(crl.text.find("Key Compromise"), std::string::npos) << crl.text;
  }
  // openssl verify -crl_check refuses the revoked certificate.
  ASSERT_EQ(Exec({"openssl", "crl", "-inform", "DER", "-in", Path("crl.der"), "-out",
                  Path("crl.pem")})
                .exit_code,
            0);
  Output verify = Exec({"openssl", "verify", "-crl_check", "-CAfile", ca_cert_,
                        "-CRLfile", Path("crl.pem"), cert});
  EXPECT_NE(verify.exit_code, 0) << verify.text;
  EXPECT_NE(verify.text.find("certificate revoked"), std::string::npos) << verify.text;
  // A certificate that was not revoked still verifies against the same CRL.
  ASSERT_FALSE(Issue(d, "other").empty());
  verify = Exec({"openssl", "verify", "-crl_check", "-CAfile", ca_cert_, "-CRLfile",
                 Path("crl.pem"), Path("other.crt")});
  EXPECT_EQ(verify.exit_code, 0) << verify.text;

  // The revocation is in the audit log under the key's name.
  HttpResult audit = Api(d, "GET", "/api/v1/audit?action=certificate.revoke");
  ASSERT_EQ(audit.status, 200) << audit.body;
  ASSERT_EQ(audit.json["items"].size(), 1u);
  EXPECT_EQ(audit.json["items"][0]["actor"], "api:default");
}

}  // namespace
}  // namespace certctl::e2e
