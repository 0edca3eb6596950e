#include "certctl/ops/certificate_ops.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/csr.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "support/ops_fixture.h"
#include "support/test_pki.h"

namespace certctl {
namespace {

using testing::Sql;

class CertificateOpsTest : public testing::OpsTest {};

TEST_F(CertificateOpsTest, IssuedCertificateChainsToTheCaAndCarriesPointers) {
  auto issued = Issue("web.example");
  ASSERT_FALSE(issued.serial.empty());
  EXPECT_FALSE(issued.private_key_pem.empty());
  ASSERT_TRUE(WriteFileAtomic(*dir_ / "leaf.pem", issued.certificate_pem).ok());
  ASSERT_TRUE(WriteFileAtomic(*dir_ / "chain.pem", issued.chain_pem).ok());
  // As an operator would check it.
  auto verify = RunProcess(
      {"openssl", "verify", "-CAfile", *dir_ / "chain.pem", *dir_ / "leaf.pem"});
  ASSERT_TRUE(verify.ok());
  EXPECT_EQ(verify->exit_code, 0) << verify->output;
  auto text =
      RunProcess({"openssl", "x509", "-in", *dir_ / "leaf.pem", "-noout", "-text"});
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->output.find(
                "OCSP - URI:http://127.0.0.1:8080/.well-known/pki/ocsp/iss-local"),
            std::string::npos)
      << text->output;
  EXPECT_NE(
      text->output.find("URI:http://127.0.0.1:8080/.well-known/pki/crl/iss-local/1"),
      std::string::npos);
  EXPECT_NE(text->output.find("DNS:web.example"), std::string::npos);
  auto serial =
      RunProcess({"openssl", "x509", "-in", *dir_ / "leaf.pem", "-noout", "-serial"});
  ASSERT_TRUE(serial.ok());
  EXPECT_EQ(Serial::Parse(serial->output.substr(serial->output.find('=') + 1))->hex(),
            issued.serial);
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM certificates WHERE serial = '" +
                          issued.serial + "'"),
            "1");
  EXPECT_EQ(
      Sql(url_, "SELECT actor FROM audit_events WHERE action = 'certificate.issue'"),
      "tester");
}

TEST_F(CertificateOpsTest, ProfileRefusesBadRequests) {
  auto ctx = Context();
  auto key = GenerateKey(KeyAlgorithm::kEcdsaP256);
  ops::IssueParams p;
  p.csr_pem = *MakeCsrPem(key->get(), "x", {"bad_name.example"});
  EXPECT_EQ(ops::IssueCertificate(ctx, p).status().code(), StatusCode::kInvalidArgument);
  p.csr_pem = *MakeCsrPem(key->get(), "ok.example", {"ok.example"});
  p.validity_days = 5000;
  EXPECT_EQ(ops::IssueCertificate(ctx, p).status().code(), StatusCode::kInvalidArgument);
  p.validity_days = 30;
  p.issuer = "iss-nope";
  EXPECT_EQ(ops::IssueCertificate(ctx, p).status().code(), StatusCode::kNotFound);
  p.issuer = kLocalIssuerId;
  p.csr_pem =
      "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
  EXPECT_EQ(ops::IssueCertificate(ctx, p).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("certificates"), 0);
}

// RFC 5280 §4.2.1.6: with an empty subject the subjectAltName is critical;
// with a subject it is not.
TEST_F(CertificateOpsTest, SanIsCriticalExactlyWhenTheSubjectIsEmpty) {
  struct Case {
    const char* name;
    testing::CsrSpec spec;
    bool critical;
  } cases[] = {
      {"empty subject", {.sans = {{GEN_DNS, "nosubject.example"}}}, true},
      {"with a CN",
       {.subject = {testing::Cn("cn.example")}, .sans = {{GEN_DNS, "cn.example"}}},
       false},
  };
  auto ctx = Context();
  for (const auto& c : cases) {
    ops::IssueParams p;
    p.csr_pem = testing::CsrPem(c.spec);
    auto issued = ops::IssueCertificate(ctx, p);
    ASSERT_TRUE(issued.ok()) << c.name << ": " << issued.status().ToString();
    ASSERT_TRUE(WriteFileAtomic(*dir_ / "san.pem", issued->certificate_pem).ok());
    auto text =
        RunProcess({"openssl", "x509", "-in", *dir_ / "san.pem", "-noout", "-text"});
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(text->output.find("X509v3 Subject Alternative Name: critical") !=
                  std::string::npos,
              c.critical)
        << c.name << ": " << text->output;
    EXPECT_NE(text->output.find("X509v3 Subject Alternative Name"), std::string::npos);
  }
}

TEST_F(CertificateOpsTest, RevokeRecordsBumpsEpochDropsCacheAndAudits) {
  auto issued = Issue();
  // A cached answer that must go in the revocation's transaction.
  Sql(url_,
      "INSERT INTO ocsp_response_cache (issuer_id, serial, generation, cert_status, "
      "response_der, this_update, next_update, responder_serial, revocation_epoch, "
      "cert_id_hash) "
      "VALUES ('iss-local', '" +
          issued.serial +
          "', 1, 0, '\\x00', now(), now() + "
          "interval '1 day', 'r', 0, 'sha1')");
  std::string epoch_before = Sql(url_, "SELECT revocation_epoch FROM issuers");
  // Any spelling of the serial works.
  std::string upper = issued.serial;
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  auto r = Revoke("000" + upper, "keyCompromise");
  EXPECT_EQ(r.revocation.reason, 1);
  EXPECT_EQ(r.ocsp_answers_dropped, 1);
  EXPECT_EQ(std::to_string(r.revocation_epoch),
            std::to_string(std::stoll(epoch_before) + 1));
  EXPECT_EQ(Sql(url_, "SELECT revoked_by FROM certificate_revocations"), "tester");
  EXPECT_EQ(Count("ocsp_response_cache"), 0);
  EXPECT_EQ(
      Sql(url_, "SELECT target FROM audit_events WHERE action = 'certificate.revoke'"),
      "iss-local/" + issued.serial);
}

TEST_F(CertificateOpsTest, RevokeRefusals) {
  auto issued = Issue();
  auto ctx = Context();
  EXPECT_EQ(ops::RevokeCertificate(ctx, {"", "abcdef", "keyCompromise"}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ops::RevokeCertificate(ctx, {"", issued.serial, "stolen"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ops::RevokeCertificate(ctx, {"", "xyz", "keyCompromise"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("certificate_revocations"), 0);
  ASSERT_TRUE(ops::RevokeCertificate(ctx, {"", issued.serial, "superseded"}).ok());
  auto twice = ops::RevokeCertificate(ctx, {"", issued.serial, "keyCompromise"});
  EXPECT_EQ(twice.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Sql(url_, "SELECT reason FROM certificate_revocations"), "4");
}

}  // namespace
}  // namespace certctl
