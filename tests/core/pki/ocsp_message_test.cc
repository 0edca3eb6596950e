// OCSP messages without a database: request parsing, CertID matching,
// response signing, and the responder certificate profile.
#include <gtest/gtest.h>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/ocsp.h"
#include "certctl/pki/ocsp_responder.h"
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
      MakeOcspRequestDer(ca_.cert.get(), {*serial}, nullptr, std::string(33, 'x'));
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

TEST_F(OcspMessageTest, SignedAnswersVerifyWithTheCli) {
  std::string request_der = CliRequest("abcdef", {"-nonce"});
  auto request = ParseOcspRequest(request_der);
  ASSERT_TRUE(request.ok());
  OcspSingleAnswer revoked{&request->ids[0], OcspCertStatus::kRevoked, 1,
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
  OcspSingleAnswer unspecified{&request->ids[0], OcspCertStatus::kRevoked, 0, now_};
  auto plain =
      SignOcspResponse({unspecified}, {responder_.get(), responder_key_.get(), now_,
                                       now_ + std::chrono::hours(1), nullptr});
  EXPECT_EQ(ParseOcspResponse(*plain)->singles[0].reason, -1);
  // removeFromCRL never goes out as the reason of a "revoked": RFC 5280 §5.3.1
  // keeps it for delta CRLs, where it means "no longer revoked".
  OcspSingleAnswer removed{&request->ids[0], OcspCertStatus::kRevoked, 8, now_};
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
