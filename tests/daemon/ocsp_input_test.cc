// Hostile OCSP requests through the router: what certctld answers for
// extensions, nonces, hash algorithms, request sizes and content types.
// Nothing here may ever come back "good" for a request it did not understand.
#include <gtest/gtest.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/ocsp.h"
#include "certctl/util/encoding.h"
#include "daemon/daemon_fixture.h"
#include "support/test_pki.h"

namespace certctl::testing {
namespace {

constexpr char kPrivateOid[] = "1.3.6.1.4.1.55555.1";

std::string Der(OCSP_REQUEST* req) {
  unsigned char* buf = nullptr;
  int len = i2d_OCSP_REQUEST(req, &buf);
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return out;
}

class OcspInputTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    auto ca = LoadCertificateFile(ca_cert_path_);
    ASSERT_TRUE(ca.ok());
    ca_ = std::move(ca).value();
    auto good = Serial::Parse(Issue("good.example").serial);
    auto revoked = Serial::Parse(Issue("revoked.example").serial);
    ASSERT_TRUE(good.ok() && revoked.ok());
    good_.emplace(*good);
    revoked_.emplace(*revoked);
    Revoke(revoked_->hex(), "keyCompromise");
  }
  std::string Request(const std::vector<Serial>& serials, const EVP_MD* md = nullptr) {
    auto der = MakeOcspRequestDer(ca_.get(), serials, md);
    EXPECT_TRUE(der.ok());
    return der.ok() ? *der : "";
  }
  daemon::HttpResponse PostOcsp(const std::string& body, const std::string& type) {
    auto req = DaemonTest::Request("POST", "/.well-known/pki/ocsp/iss-local", "", body,
                                   daemon::ListenerKind::kPki);
    if (!type.empty()) req.headers.emplace_back("content-type", type);
    return Call(req);
  }
  UniquePtr<X509> ca_;
  std::optional<Serial> good_, revoked_;
};

TEST_F(OcspInputTest, HostileRequestsGetTheRightOcspAnswer) {
  std::string good = Request({*good_});
  std::string null_value("\x05\x00", 2);
  struct Case {
    const char* name;
    std::string body;
    int response_status;                        // OCSPResponseStatus
    std::vector<OcspCertStatus> cert_statuses;  // when successful, in order
    size_t nonce_size = 0;                      // echoed nonce, when successful
  } cases[] = {
      {"plain", good, 0, {OcspCertStatus::kGood}},
      {"critical unknown request extension",
       OcspRequestWithExtension(good, kPrivateOid, true, false, null_value),
       1,
       {}},
      {"critical unknown CertID extension",
       OcspRequestWithExtension(good, kPrivateOid, true, true, null_value),
       1,
       {}},
      {"non-critical unknown extensions are ignored",
       OcspRequestWithExtension(
           OcspRequestWithExtension(good, kPrivateOid, false, false, null_value),
           kPrivateOid, false, true, null_value),
       0,
       {OcspCertStatus::kGood}},
      {"0-octet nonce", OcspRequestWithNonce(good, 0), 1, {}},
      {"33-octet nonce is echoed",
       OcspRequestWithNonce(good, 33),
       0,
       {OcspCertStatus::kGood},
       33},
      {"128-octet nonce is echoed",
       OcspRequestWithNonce(good, 128),
       0,
       {OcspCertStatus::kGood},
       128},
      {"129-octet nonce", OcspRequestWithNonce(good, 129), 1, {}},
      {"MD5 CertID only", Request({*good_}, EVP_md5()), 6, {}},
      {"MD5 CertID of a revoked certificate", Request({*revoked_}, EVP_md5()), 6, {}},
      {"SHA3 CertID", Request({*good_}, EVP_sha3_256()), 6, {}},
      {"SHA-256 CertIDs",
       Request({*good_, *revoked_}, EVP_sha256()),
       0,
       {OcspCertStatus::kGood, OcspCertStatus::kRevoked}},
  };
  // 1000 CertIDs in one request (RFC 5019 clients send one).
  std::vector<Serial> thousand;
  for (int i = 0; i < 1000; ++i) thousand.push_back(*good_);
  std::string many = Request(thousand);
  for (const auto& c : cases) {
    auto r = PostOcsp(c.body, "application/ocsp-request");
    ASSERT_EQ(r.status, 200) << c.name;
    EXPECT_EQ(r.Header("content-type"), "application/ocsp-response") << c.name;
    auto parsed = ParseOcspResponse(r.body);
    ASSERT_TRUE(parsed.ok()) << c.name << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->response_status, c.response_status) << c.name;
    ASSERT_EQ(parsed->singles.size(), c.cert_statuses.size()) << c.name;
    for (size_t i = 0; i < c.cert_statuses.size(); ++i) {
      EXPECT_EQ(parsed->singles[i].status, c.cert_statuses[i]) << c.name << " #" << i;
    }
    EXPECT_EQ(parsed->nonce ? parsed->nonce->size() : 0, c.nonce_size) << c.name;
  }
  auto r = PostOcsp(many, "application/ocsp-request");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(ParseOcspResponse(r.body)->response_status, 1);
}

// A request mixing a CertID certctl answers with one it cannot match gets an
// answer for each: the one it cannot match is "unknown", never "good".
TEST_F(OcspInputTest, UnmatchedHashInAMixedRequestIsUnknown) {
  auto req = OCSP_REQUEST_new();
  UniquePtr<OCSP_REQUEST> owner(req);
  for (const EVP_MD* md : {EVP_sha1(), EVP_md5()}) {
    auto serial = good_->ToAsn1();
    ASSERT_TRUE(serial.ok());
    OCSP_CERTID* id = OCSP_cert_id_new(md, X509_get_subject_name(ca_.get()),
                                       X509_get0_pubkey_bitstr(ca_.get()), serial->get());
    ASSERT_TRUE(id && OCSP_request_add0_id(req, id));
  }
  std::string path = WriteFile("mixed.der", PostOcsp(Der(req), "").body);
  auto text = Command({"openssl", "ocsp", "-respin", path, "-resp_text", "-noverify"});
  EXPECT_NE(text.output.find("Cert Status: good"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("Cert Status: unknown"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("Hash Algorithm: md5"), std::string::npos) << text.output;
  size_t md5 = text.output.find("Hash Algorithm: md5");
  EXPECT_EQ(text.output.find("Cert Status: good", md5), std::string::npos) << text.output;
}

TEST_F(OcspInputTest, ContentTypes) {
  std::string good = Request({*good_});
  struct Case {
    const char* type;
    int status;
  } cases[] = {
      {"application/ocsp-request", 200},
      {"Application/OCSP-Request", 200},
      {"application/ocsp-request; charset=binary", 200},
      {"", 200},  // some clients send none (RFC 6960 A.1.1 names the type)
      {"text/plain", 415},
      {"application/json", 415},
      {"application/ocsp-response", 415},
      {"application/x-www-form-urlencoded", 415},  // curl --data
      {"application/ocsp-requestx", 415},
  };
  for (const auto& c : cases) {
    auto r = PostOcsp(good, c.type);
    EXPECT_EQ(r.status, c.status) << "\"" << c.type << "\": " << r.body;
    if (c.status == 415) {
      EXPECT_EQ(Json(r)["error"]["code"], "unsupported_media_type") << c.type;
    } else {
      EXPECT_EQ(ParseOcspResponse(r.body)->response_status, 0) << c.type;
    }
  }
}

// The GET form decodes to the same parser: a critical extension is refused
// there too.
TEST_F(OcspInputTest, GetFormRefusesCriticalExtensions) {
  std::string der = OcspRequestWithExtension(Request({*good_}), kPrivateOid, true, false,
                                             std::string("\x05\x00", 2));
  auto r = Get("/.well-known/pki/ocsp/iss-local/" + Base64Encode(der), "");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(ParseOcspResponse(r.body)->response_status, 1);
  EXPECT_EQ(r.Header("cache-control"), "no-store");
}

}  // namespace
}  // namespace certctl::testing
