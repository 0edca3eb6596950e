// Serving more than one CA generation (issue 10): after a rotation the old
// generation keeps answering OCSP, with its own responder, and signing its
// own CRL for what it issued; new certificates chain to the active one. The
// rotation here is made by hand (OpsTest::RotateByHand) with the subject of
// generation 1, so both generations have the same issuer name hash and only
// the key hash tells their CertIDs apart.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>

#include "certctl/ops/crl_ops.h"
#include "certctl/ops/issuer_ops.h"
#include "certctl/pki/certificate.h"
#include "ops/ocsp_test_helpers.h"

namespace certctl {
namespace {

using testing::CliCheck;
using testing::CliRequest;
using testing::RunOpenssl;
using testing::Sql;
using testing::WriteBytes;

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

class CaGenerationsTest : public testing::OcspFixture {
 protected:
  void SetUp() override {
    OcspFixture::SetUp();
    a_ = Issue("a.example");
    g2_ = RotateByHand();
    ASSERT_FALSE(HasFatalFailure());
    b_ = Issue("b.example");
  }

  // `openssl ocsp` for `serial` with a CertID made from `request_ca`, answered
  // by `service`, checked against `verify_ca`.
  std::pair<ops::OcspService::ServedResponse, std::string> AskAndCheck(
      ops::OcspService& service, const std::string& serial, const std::string& request_ca,
      const std::string& verify_ca) {
    std::string request = CliRequest(*work_, request_ca, {serial});
    auto answer = service.Respond(kLocalIssuerId, request);
    return {answer, CliCheck(*work_, verify_ca, request, answer.der)};
  }

  // `openssl crl -CAfile ca -text` of a DER CRL.
  std::string CrlText(const std::string& der, const std::string& ca) {
    std::string file = *work_ / "crl.der";
    WriteBytes(file, der);
    int code = 0;
    return RunOpenssl(
        {"crl", "-inform", "DER", "-in", file, "-CAfile", ca, "-noout", "-text"}, &code);
  }

  // Makes `generation` the active one by hand (at most one is active at any
  // moment: a unique index).
  void MakeActive(int generation) {
    Sql(url_,
        "UPDATE ca_generations SET state = 'retired', retired_at = now() WHERE state "
        "= 'active'");
    Sql(url_,
        "UPDATE ca_generations SET state = 'active', retired_at = NULL WHERE "
        "generation = " +
            std::to_string(generation));
  }

  static std::string Upper(std::string hex) {
    for (auto& c : hex) c = static_cast<char>(std::toupper(c));
    return hex;
  }

  ops::IssuedCertificate a_, b_;
  HandRotation g2_;
};

TEST_F(CaGenerationsTest, BothGenerationsShareTheIssuerNameHash) {
  auto g1 = LoadCertificateFile(ca_cert_path_);
  ASSERT_TRUE(g1.ok());
  EXPECT_EQ(SubjectOf(g1->get()), SubjectOf(g2_.ca.cert.get()));
  EXPECT_NE(FingerprintSha256(g1->get()), FingerprintSha256(g2_.ca.cert.get()));
}

TEST_F(CaGenerationsTest, EachCertIdIsAnsweredByItsOwnGenerationsResponder) {
  Revoke(a_.serial);
  Revoke(b_.serial);
  auto service = NewService();
  auto [a, a_text] = AskAndCheck(*service, a_.serial, ca_cert_path_, ca_cert_path_);
  EXPECT_EQ(a.cert_status, "revoked");
  EXPECT_TRUE(Has(a_text, "Response verify OK")) << a_text;
  EXPECT_TRUE(Has(a_text, "iss-local OCSP Responder g1")) << a_text;
  auto [b, b_text] = AskAndCheck(*service, b_.serial, g2_.cert_path, g2_.cert_path);
  EXPECT_EQ(b.cert_status, "revoked");
  EXPECT_TRUE(Has(b_text, "Response verify OK")) << b_text;
  EXPECT_TRUE(Has(b_text, "iss-local OCSP Responder g2")) << b_text;

  // Each answer verifies only with its own CA: g1's answer was never signed
  // by anything of g2, and the other way round.
  std::string a_request = CliRequest(*work_, ca_cert_path_, {a_.serial});
  std::string wrong = CliCheck(*work_, g2_.cert_path, a_request, a.der);
  EXPECT_FALSE(Has(wrong, "Response verify OK")) << wrong;
  std::string b_request = CliRequest(*work_, g2_.cert_path, {b_.serial});
  wrong = CliCheck(*work_, ca_cert_path_, b_request, b.der);
  EXPECT_FALSE(Has(wrong, "Response verify OK")) << wrong;

  // The same serial with the other generation's key hash (same name hash) is
  // nobody's certificate: unknown, answered by the generation it names.
  auto [cross_a, cross_a_text] =
      AskAndCheck(*service, a_.serial, g2_.cert_path, g2_.cert_path);
  EXPECT_EQ(cross_a.cert_status, "unknown");
  EXPECT_TRUE(Has(cross_a_text, "iss-local OCSP Responder g2")) << cross_a_text;
  auto [cross_b, cross_b_text] =
      AskAndCheck(*service, b_.serial, ca_cert_path_, ca_cert_path_);
  EXPECT_EQ(cross_b.cert_status, "unknown");
  EXPECT_TRUE(Has(cross_b_text, "iss-local OCSP Responder g1")) << cross_b_text;

  // Each generation has a responder row of its own, signed by its CA.
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(generation::text, ',' ORDER BY generation) "
                "FROM ocsp_responder_certs"),
            "1,2");
}

TEST_F(CaGenerationsTest, AnswerBySerialUsesTheGenerationThatIssuedIt) {
  auto service = NewService();
  auto a = service->RespondForSerial(kLocalIssuerId, a_.serial);
  auto b = service->RespondForSerial(kLocalIssuerId, b_.serial);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->cert_status, "good");
  EXPECT_EQ(b->cert_status, "good");
  std::string a_text = CliCheck(*work_, ca_cert_path_,
                                CliRequest(*work_, ca_cert_path_, {a_.serial}), a->der);
  EXPECT_TRUE(Has(a_text, "Response verify OK")) << a_text;
  std::string b_text = CliCheck(*work_, g2_.cert_path,
                                CliRequest(*work_, g2_.cert_path, {b_.serial}), b->der);
  EXPECT_TRUE(Has(b_text, "Response verify OK")) << b_text;
}

TEST_F(CaGenerationsTest, EachGenerationSignsItsOwnCrlAtItsOwnUrl) {
  Revoke(a_.serial);
  Revoke(b_.serial);
  ops::CrlService crls(Context());
  auto g1 = crls.Get(kLocalIssuerId, 1);
  auto g2 = crls.Get(kLocalIssuerId, 2);
  auto active = crls.Get(kLocalIssuerId, std::nullopt);
  ASSERT_TRUE(g1.ok() && g2.ok() && active.ok());
  std::string g1_text = CrlText(g1->crl->der, ca_cert_path_);
  EXPECT_TRUE(Has(g1_text, "verify OK")) << g1_text;
  EXPECT_TRUE(Has(g1_text, Upper(a_.serial))) << g1_text;
  EXPECT_FALSE(Has(g1_text, Upper(b_.serial))) << g1_text;
  std::string g2_text = CrlText(g2->crl->der, g2_.cert_path);
  EXPECT_TRUE(Has(g2_text, "verify OK")) << g2_text;
  EXPECT_TRUE(Has(g2_text, Upper(b_.serial))) << g2_text;
  EXPECT_FALSE(Has(g2_text, Upper(a_.serial))) << g2_text;
  EXPECT_EQ(active->crl->generation, 2);
  // Not the other way round.
  std::string crossed = CrlText(g1->crl->der, g2_.cert_path);
  EXPECT_FALSE(Has(crossed, "verify OK")) << crossed;
}

// A CRL service that served generation 1 as the active one learns of the
// switch through an invalidation (certctld hears one by NOTIFY).
TEST_F(CaGenerationsTest, GenerationlessCrlFollowsTheSwitchOnInvalidation) {
  MakeActive(1);
  ops::CrlService crls(Context());
  auto before = crls.Get(kLocalIssuerId, std::nullopt);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->crl->generation, 1);
  MakeActive(2);
  crls.Invalidate(kLocalIssuerId);
  auto after = crls.Get(kLocalIssuerId, std::nullopt);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->crl->generation, 2);
  std::string text = CrlText(after->crl->der, g2_.cert_path);
  EXPECT_TRUE(Has(text, "verify OK")) << text;
}

TEST_F(CaGenerationsTest, NewCertificatesChainToTheActiveGeneration) {
  EXPECT_EQ(a_.generation, 1);
  EXPECT_EQ(b_.generation, 2);
  EXPECT_EQ(b_.chain_pem, CertificateToPem(g2_.ca.cert.get()));
  std::string b_file = *work_ / "b.crt";
  WriteBytes(b_file, b_.certificate_pem);
  int code = 0;
  std::string ok = RunOpenssl({"verify", "-CAfile", g2_.cert_path, b_file}, &code);
  EXPECT_EQ(code, 0) << ok;
  std::string wrong = RunOpenssl({"verify", "-CAfile", ca_cert_path_, b_file}, &code);
  EXPECT_NE(code, 0) << wrong;
  std::string text = RunOpenssl({"x509", "-in", b_file, "-noout", "-text"});
  EXPECT_TRUE(Has(text, "/.well-known/pki/crl/iss-local/2")) << text;
  EXPECT_TRUE(Has(text, "/.well-known/pki/ca/iss-local/2")) << text;
}

// The configuration an operator had before the rotation keeps working: the
// configured files are generation 1, now retired, and the database names the
// active generation's key.
TEST_F(CaGenerationsTest, ConfiguredFilesOfARetiredGenerationStillRegister) {
  ops::CaKeyring fresh;
  auto ctx = Context();
  ops::OpContext start{ctx.db, ctx.config, ctx.clock, ctx.logger, fresh, ctx.actor};
  ops::OpReport report;
  auto registered = ops::RegisterConfiguredCa(start, kLocalIssuerId, ca_cert_path_,
                                              ca_key_path_, report);
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  EXPECT_FALSE(registered->registered);
  EXPECT_EQ(registered->configured_generation, 1);
  EXPECT_EQ(registered->generation, 2);
  EXPECT_EQ(registered->active_key_path, g2_.key_path);
  EXPECT_TRUE(report.findings.empty());
  // The configured files of generation 2 are as good.
  ops::OpReport report2;
  auto second = ops::RegisterConfiguredCa(start, kLocalIssuerId, g2_.cert_path,
                                          g2_.key_path, report2);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->configured_generation, 2);
  EXPECT_EQ(Count("ca_generations"), 2);
}

TEST_F(CaGenerationsTest, ARetiredGenerationMayHaveExpired) {
  // Generation 1 expired yesterday: it still registers (it only signs CRLs and
  // OCSP answers), while an expired ACTIVE generation is refused.
  auto now = std::chrono::system_clock::now();
  auto old = CreateSelfSignedCa({.validity = std::chrono::hours(24)},
                                now - std::chrono::hours(48));
  ASSERT_TRUE(old.ok());
  std::string cert = *dir_ / "expired.crt", key = *dir_ / "expired.key";
  ASSERT_TRUE(WriteCaFiles(*old, cert, key).ok());
  Sql(url_, "UPDATE ca_generations SET cert_pem = '" + CertificateToPem(old->cert.get()) +
                "', cert_sha256 = '" + FingerprintSha256(old->cert.get()) +
                "', key_path = '" + key + "' WHERE generation = 1");
  auto ctx = Context();
  ops::OpReport report;
  auto registered = ops::RegisterConfiguredCa(ctx, kLocalIssuerId, cert, key, report);
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  EXPECT_EQ(registered->configured_generation, 1);

  MakeActive(1);
  Status refused =
      ops::RegisterConfiguredCa(ctx, kLocalIssuerId, cert, key, report).status();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(refused.message(), "has expired")) << refused.message();
}

TEST_F(CaGenerationsTest, AMissingActiveKeyIsRefusedNamingTheFile) {
  ASSERT_EQ(std::rename(g2_.key_path.c_str(), (g2_.key_path + ".moved").c_str()), 0);
  ops::CaKeyring fresh;
  auto ctx = Context();
  ops::OpContext start{ctx.db, ctx.config, ctx.clock, ctx.logger, fresh, ctx.actor};
  ops::OpReport report;
  Status s = ops::RegisterConfiguredCa(start, kLocalIssuerId, ca_cert_path_, ca_key_path_,
                                       report)
                 .status();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Has(s.message(), g2_.key_path)) << s.message();
  EXPECT_TRUE(Has(s.message(), "active CA generation 2")) << s.message();
}

TEST_F(CaGenerationsTest, AKeyFileMovedAwayFromItsRowIsAWarning) {
  std::string copy = *dir_ / "copy-of-g1.key";
  RunOpenssl({"pkey", "-in", ca_key_path_, "-out", copy});
  ASSERT_EQ(::chmod(copy.c_str(), 0600), 0);
  auto ctx = Context();
  ops::OpReport report;
  auto registered =
      ops::RegisterConfiguredCa(ctx, kLocalIssuerId, ca_cert_path_, copy, report);
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].code, "ca.key_path_differs");
  EXPECT_TRUE(Has(report.findings[0].message, ca_key_path_));
}

}  // namespace
}  // namespace certctl
