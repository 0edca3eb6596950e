// OCSP messages without a database: request parsing, CertID matching,
// response signing, and the responder certificate profile.
#include <gtest/gtest.h>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/ocsp.h"
#include "certctl/pki/ocsp_responder.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

class OcspMessageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    now_ = std::chrono::system_clock::now();
    auto ca = CreateSelfSignedCa({}, now_);
    ASSERT_TRUE(ca.ok());
    ca_ = std::move(ca).value();
    auto key = GenerateKey(KeyAlgorithm::kEcdsaP256);
    ASSERT_TRUE(key.ok());
    responder_key_ = std::move(key).value();
    auto cert = IssueResponderCertificate({"test OCSP Responder", responder_key_.get(),
                                           ca_.cert.get(), ca_.key.get(), now_,
                                           std::chrono::hours(24 * 30)});
    ASSERT_TRUE(cert.ok()) << cert.status().ToString();
    responder_ = std::move(cert).value();
    ca_path_ = dir_ / "ca.pem";
    ASSERT_TRUE(
        WriteFileAtomic(ca_path_, CertificateToPem(ca_.cert.get()), {.mode = 0644}).ok());
  }

  std::string Openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunProcess(argv);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->output : "";
  }

  // A request made by the openssl CLI.
  std::string CliRequest(const std::string& serial,
                         const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"ocsp", "-issuer", ca_path_};
    args.insert(args.end(), extra.begin(), extra.end());  // a digest goes before -serial
    for (const auto& a : {std::string("-serial"), "0x" + serial, std::string("-reqout"),
                          dir_ / "req.der"}) {
      args.push_back(a);
    }
    Openssl(args);
    return *ReadFile(dir_ / "req.der");
  }

  std::string CliCheck(const std::string& response) {
    EXPECT_TRUE(WriteFileAtomic(dir_ / "resp.der", response, {.mode = 0644}).ok());
    return Openssl({"ocsp", "-reqin", dir_ / "req.der", "-respin", dir_ / "resp.der",
                    "-CAfile", ca_path_, "-issuer", ca_path_, "-resp_text"});
  }

  // `der` with one more extension (value: the DER given, NULL by default), in
  // requestExtensions or in the first CertID's singleRequestExtensions.
  static std::string WithExtension(const std::string& der, const char* oid, bool critical,
                                   bool single,
                                   std::string value = std::string("\x05\x00", 2)) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    UniquePtr<OCSP_REQUEST> req(
        d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
    UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(oid, 1));
    UniquePtr<ASN1_OCTET_STRING> octets(ASN1_OCTET_STRING_new());
    EXPECT_TRUE(req && obj && octets);
    ASN1_OCTET_STRING_set(octets.get(),
                          reinterpret_cast<const unsigned char*>(value.data()),
                          static_cast<int>(value.size()));
    UniquePtr<X509_EXTENSION> ext(
        X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), critical ? 1 : 0, octets.get()));
    int added = single ? OCSP_ONEREQ_add_ext(OCSP_request_onereq_get0(req.get(), 0),
                                             ext.get(), -1)
                       : OCSP_REQUEST_add_ext(req.get(), ext.get(), -1);
    EXPECT_EQ(added, 1);
    unsigned char* buf = nullptr;
    int len = i2d_OCSP_REQUEST(req.get(), &buf);
    std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    return out;
  }
  // `der` with a nonce extension whose OCTET STRING holds `nonce`.
  static std::string WithNonce(const std::string& der, const std::string& nonce,
                               bool critical) {
    UniquePtr<ASN1_OCTET_STRING> inner(ASN1_OCTET_STRING_new());
    ASN1_OCTET_STRING_set(inner.get(),
                          reinterpret_cast<const unsigned char*>(nonce.data()),
                          static_cast<int>(nonce.size()));
    unsigned char* buf = nullptr;
    int len = i2d_ASN1_OCTET_STRING(inner.get(), &buf);
    std::string value(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    return WithExtension(der, "1.3.6.1.5.5.7.48.1.2", critical, false, value);
  }

  TimePoint now_;
  testing::TempDir dir_;
  std::string ca_path_;
  CaMaterial ca_;
  UniquePtr<EVP_PKEY> responder_key_;
  UniquePtr<X509> responder_;
};

TEST_F(OcspMessageTest, ParsesCliRequestsWithSha1Sha256AndNonce) {
  auto sha1 = ParseOcspRequest(CliRequest("0A1B", {"-no_nonce"}));
  ASSERT_TRUE(sha1.ok()) << sha1.status().ToString();
  ASSERT_EQ(sha1->ids.size(), 1u);
  EXPECT_EQ(sha1->ids[0].hash_name, "sha1");
  EXPECT_EQ(sha1->ids[0].serial->hex(), "a1b");
  EXPECT_FALSE(sha1->nonce);
  EXPECT_TRUE(CertIdIssuedBy(sha1->ids[0], ca_.cert.get()));

  auto sha256 = ParseOcspRequest(CliRequest("0a1b", {"-sha256", "-nonce"}));
  ASSERT_TRUE(sha256.ok()) << sha256.status().ToString();
  EXPECT_EQ(sha256->ids[0].hash_name, "sha256");
  EXPECT_TRUE(CertIdIssuedBy(sha256->ids[0], ca_.cert.get()));
  ASSERT_TRUE(sha256->nonce);
  EXPECT_EQ(sha256->nonce->size(), 16u);  // the CLI's default

  auto other = CreateSelfSignedCa({.common_name = "Other CA"}, now_);
  EXPECT_FALSE(CertIdIssuedBy(sha1->ids[0], other->cert.get()));
  // Same name, different key: the key hash tells them apart.
  auto same_name = CreateSelfSignedCa({}, now_);
  EXPECT_FALSE(CertIdIssuedBy(sha256->ids[0], same_name->cert.get()));
}

TEST_F(OcspMessageTest, RefusesMalformedRequests) {
  auto serial = Serial::Parse("1234");
  auto long_nonce =
      MakeOcspRequestDer(ca_.cert.get(), {*serial}, nullptr, std::string(129, 'x'));
  ASSERT_TRUE(long_nonce.ok());
  std::string good = *MakeOcspRequestDer(ca_.cert.get(), {*serial});
  // A zero-length nonce (OCSP_request_add1_nonce would make up a random one).
  auto parsed_good = ParseOcspRequest(good);
  ASSERT_TRUE(parsed_good.ok());
  UniquePtr<ASN1_STRING> value(ASN1_OCTET_STRING_new());
  ASSERT_EQ(ASN1_OCTET_STRING_set(value.get(),
                                  reinterpret_cast<const unsigned char*>("\x04\x00"), 2),
            1);  // extnValue = DER of an empty OCTET STRING
  UniquePtr<X509_EXTENSION> ext(
      X509_EXTENSION_create_by_NID(nullptr, NID_id_pkix_OCSP_Nonce, 0, value.get()));
  ASSERT_TRUE(ext);
  ASSERT_EQ(OCSP_REQUEST_add_ext(parsed_good->request.get(), ext.get(), -1), 1);
  unsigned char* enc = nullptr;
  int enc_len = i2d_OCSP_REQUEST(parsed_good->request.get(), &enc);
  std::string empty_nonce(reinterpret_cast<char*>(enc), static_cast<size_t>(enc_len));
  OPENSSL_free(enc);
  for (const std::string& der :
       {std::string(), std::string("junk"), good + std::string(1, '\0'), good.substr(1),
        empty_nonce, *long_nonce}) {
    auto parsed = ParseOcspRequest(der);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
  // An empty requestList.
  UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  unsigned char* buf = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &buf);
  std::string none(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  EXPECT_EQ(ParseOcspRequest(none).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ParseOcspRequest(good).ok());
}

// RFC 6960 §4.4: unrecognised extensions are ignored unless critical; a
// critical one certctl does not understand makes the request malformed, in
// requestExtensions and in a CertID's singleRequestExtensions alike.
// RFC 9654 §2.1 (obsoletes RFC 8954): a nonce is 1..128 octets; 0 or more than
// 128 is malformedRequest.
TEST_F(OcspMessageTest, ExtensionsAndNoncesAsRfc6960AndRfc9654Say) {
  const char* kPrivateOid = "1.3.6.1.4.1.55555.1";
  const char* kServiceLocator = "1.3.6.1.5.5.7.48.1.7";  // understood by none here
  std::string plain = *MakeOcspRequestDer(ca_.cert.get(), {*Serial::Parse("1234")});
  struct Case {
    const char* name;
    std::string der;
    bool ok;
    size_t nonce_size = 0;  // when ok and a nonce is expected
  } cases[] = {
      {"critical unknown request extension",
       WithExtension(plain, kPrivateOid, true, false), false},
      {"non-critical unknown request extension",
       WithExtension(plain, kPrivateOid, false, false), true},
      {"critical unknown CertID extension", WithExtension(plain, kPrivateOid, true, true),
       false},
      {"non-critical unknown CertID extension",
       WithExtension(plain, kPrivateOid, false, true), true},
      {"critical service locator", WithExtension(plain, kServiceLocator, true, true),
       false},
      {"critical nonce", WithNonce(plain, std::string(16, 'n'), true), true, 16},
      {"0-octet nonce", WithNonce(plain, "", false), false},
      {"1-octet nonce", WithNonce(plain, "n", false), true, 1},
      {"32-octet nonce", WithNonce(plain, std::string(32, 'n'), false), true, 32},
      {"33-octet nonce", WithNonce(plain, std::string(33, 'n'), false), true, 33},
      {"128-octet nonce", WithNonce(plain, std::string(128, 'n'), false), true, 128},
      {"129-octet nonce", WithNonce(plain, std::string(129, 'n'), false), false},
      {"4096-octet nonce", WithNonce(plain, std::string(4096, 'n'), false), false},
      {"nonce that is not an OCTET STRING",
       WithExtension(plain, "1.3.6.1.5.5.7.48.1.2", false, false, "nonce"), false},
      {"two nonces", WithNonce(WithNonce(plain, "a", false), "b", false), false},
  };
  for (const auto& c : cases) {
    auto parsed = ParseOcspRequest(c.der);
    EXPECT_EQ(parsed.ok(), c.ok) << c.name << ": " << parsed.status().ToString();
    if (!c.ok) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << c.name;
    } else if (parsed.ok() && c.nonce_size > 0) {
      ASSERT_TRUE(parsed->nonce) << c.name;
      EXPECT_EQ(parsed->nonce->size(), c.nonce_size) << c.name;
    }
  }
  auto critical = ParseOcspRequest(WithExtension(plain, kPrivateOid, true, false));
  EXPECT_NE(critical.status().message().find(kPrivateOid), std::string::npos)
      << critical.status().message();
}

// A CertID is matched with its own hash algorithm; certctl answers SHA-1 and
// SHA-2 CertIDs. Any other algorithm (MD5, an unknown OID) is kept, never
// matched to an issuer, and so never answered "good".
TEST_F(OcspMessageTest, CertIdHashAlgorithms) {
  auto serial = *Serial::Parse("1234");
  struct Case {
    const char* name;
    const EVP_MD* md;
    const char* hash_name;  // "" when unsupported
  } cases[] = {
      {"SHA-1", EVP_sha1(), "sha1"},       {"SHA-224", EVP_sha224(), "sha224"},
      {"SHA-256", EVP_sha256(), "sha256"}, {"SHA-384", EVP_sha384(), "sha384"},
      {"SHA-512", EVP_sha512(), "sha512"}, {"MD5", EVP_md5(), ""},
      {"SHA3-256", EVP_sha3_256(), ""},
  };
  for (const auto& c : cases) {
    auto parsed = ParseOcspRequest(*MakeOcspRequestDer(ca_.cert.get(), {serial}, c.md));
    ASSERT_TRUE(parsed.ok()) << c.name << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->ids[0].hash_name, c.hash_name) << c.name;
    EXPECT_EQ(CertIdIssuedBy(parsed->ids[0], ca_.cert.get()), *c.hash_name != '\0')
        << c.name;
  }
  // An OID that names no digest at all (1.3.14.3.2.99 in place of SHA-1's .26).
  std::string der = *MakeOcspRequestDer(ca_.cert.get(), {serial});
  const std::string sha1_oid("\x06\x05\x2b\x0e\x03\x02\x1a", 7);
  size_t at = der.find(sha1_oid);
  ASSERT_NE(at, std::string::npos);
  der[at + 6] = 0x63;
  auto parsed = ParseOcspRequest(der);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->ids[0].hash_name, "");
  EXPECT_FALSE(CertIdIssuedBy(parsed->ids[0], ca_.cert.get()));
}

TEST_F(OcspMessageTest, CertIdCountIsCapped) {
  std::vector<Serial> serials;
  for (int i = 1; i <= 1000; ++i) serials.push_back(*Serial::Parse(std::to_string(i)));
  auto thousand = ParseOcspRequest(*MakeOcspRequestDer(ca_.cert.get(), serials));
  EXPECT_EQ(thousand.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(thousand.status().message().find("1000"), std::string::npos);
  serials.erase(serials.begin() + kMaxOcspRequestCertIds, serials.end());
  EXPECT_TRUE(ParseOcspRequest(*MakeOcspRequestDer(ca_.cert.get(), serials)).ok());
  serials.push_back(*Serial::Parse("ffff"));
  EXPECT_FALSE(ParseOcspRequest(*MakeOcspRequestDer(ca_.cert.get(), serials)).ok());
}

// RFC 6960 A.1 GET: base64 of the DER, percent-encoded or not, in either
// base64 alphabet; what does not decode is refused.
TEST_F(OcspMessageTest, DecodesGetRequestsAsClientsEncodeThem) {
  std::string der = CliRequest("0a1b", {"-nonce"});
  std::string b64 = Base64Encode(der);
  std::string pct, url_safe;
  for (char c : b64) {
    pct += c == '/' ? "%2F" : c == '+' ? "%2B" : c == '=' ? "%3D" : std::string(1, c);
    if (c != '=') url_safe += c == '/' ? '_' : c == '+' ? '-' : c;
  }
  for (const std::string& form : {b64, pct, url_safe}) {
    auto decoded = DecodeOcspGetRequest(form);
    ASSERT_TRUE(decoded.ok()) << form << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, der) << form;
  }
  for (const std::string& bad : {std::string("%zz"), std::string("MEI%"), "MEI!" + b64}) {
    EXPECT_EQ(DecodeOcspGetRequest(bad).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST_F(OcspMessageTest, SignedAnswersVerifyWithTheCli) {
  std::string request_der = CliRequest("abcdef", {"-nonce"});
  auto request = ParseOcspRequest(request_der);
  ASSERT_TRUE(request.ok());
  OcspSingleResponse revoked{&request->ids[0], OcspCertStatus::kRevoked, 1,
                             now_ - std::chrono::hours(1)};
  auto der = SignOcspResponse({revoked},
                              {responder_.get(), responder_key_.get(), now_,
                               now_ + std::chrono::hours(96), request->request.get()});
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  std::string text = CliCheck(*der);
  EXPECT_NE(text.find("Response verify OK"), std::string::npos) << text;
  EXPECT_NE(text.find(": revoked"), std::string::npos) << text;
  EXPECT_NE(text.find("Reason: keyCompromise"), std::string::npos) << text;
  EXPECT_NE(text.find("OCSP Nonce"), std::string::npos) << text;

  auto parsed = ParseOcspResponse(*der);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->nonce, request->nonce);
  ASSERT_EQ(parsed->singles.size(), 1u);
  EXPECT_EQ(parsed->singles[0].serial, "abcdef");
  EXPECT_EQ(parsed->singles[0].reason, 1);
  EXPECT_EQ(parsed->singles[0].cert_id_der, request->ids[0].der);
  EXPECT_TRUE(VerifyOcspResponse(*parsed, ca_.cert.get()).ok());
  EXPECT_TRUE(OcspResponseSignedBy(*parsed, responder_.get()));
  auto stranger = CreateSelfSignedCa({}, now_);
  EXPECT_EQ(VerifyOcspResponse(*parsed, stranger->cert.get()).code(),
            StatusCode::kCorruption);
  EXPECT_FALSE(OcspResponseSignedBy(*parsed, stranger->cert.get()));

  // "unspecified" is said by omitting the reason.
  OcspSingleResponse unspecified{&request->ids[0], OcspCertStatus::kRevoked, 0, now_};
  auto plain =
      SignOcspResponse({unspecified}, {responder_.get(), responder_key_.get(), now_,
                                       now_ + std::chrono::hours(1), nullptr});
  EXPECT_EQ(ParseOcspResponse(*plain)->singles[0].reason, -1);
  // removeFromCRL never goes out as the reason of a "revoked": RFC 5280 §5.3.1
  // keeps it for delta CRLs, where it means "no longer revoked".
  OcspSingleResponse removed{&request->ids[0], OcspCertStatus::kRevoked, 8, now_};
  auto mapped = SignOcspResponse({removed}, {responder_.get(), responder_key_.get(), now_,
                                             now_ + std::chrono::hours(1), nullptr});
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(ParseOcspResponse(*mapped)->singles[0].status, OcspCertStatus::kRevoked);
  EXPECT_EQ(ParseOcspResponse(*mapped)->singles[0].reason, -1);
  EXPECT_EQ(ParseOcspResponse(OcspErrorResponseDer(OcspResponseStatus::kTryLater))
                ->response_status,
            3);
}

TEST_F(OcspMessageTest, ResponderCertificateProfile) {
  ResponderProfile p = InspectResponderProfile(responder_.get());
  EXPECT_TRUE(p.complete());
  EXPECT_TRUE(SignedBy(responder_.get(), ca_.cert.get()));
  EXPECT_FALSE(InspectResponderProfile(ca_.cert.get()).complete());
  ASSERT_TRUE(
      WriteFileAtomic(dir_ / "r.pem", CertificateToPem(responder_.get()), {.mode = 0644})
          .ok());
  std::string text = Openssl({"x509", "-in", dir_ / "r.pem", "-noout", "-text"});
  EXPECT_NE(text.find("OCSP Signing"), std::string::npos) << text;
  EXPECT_NE(text.find("OCSP No Check"), std::string::npos) << text;
  EXPECT_NE(text.find("Digital Signature"), std::string::npos) << text;
  // Never longer than the CA.
  auto short_ca = CreateSelfSignedCa({.validity = std::chrono::hours(24)}, now_);
  auto clamped =
      IssueResponderCertificate({"r", responder_key_.get(), short_ca->cert.get(),
                                 short_ca->key.get(), now_, std::chrono::hours(24 * 30)});
  ASSERT_TRUE(clamped.ok());
  EXPECT_EQ(NotAfter(clamped->get()), NotAfter(short_ca->cert.get()));
  auto expired = IssueResponderCertificate(
      {"r", responder_key_.get(), short_ca->cert.get(), short_ca->key.get(),
       now_ + std::chrono::hours(48), std::chrono::hours(24)});
  EXPECT_EQ(expired.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace certctl
