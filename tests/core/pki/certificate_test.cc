#include "certctl/pki/certificate.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "certctl/pki/ca.h"
#include "certctl/pki/csr.h"
#include "certctl/pki/keys.h"

namespace certctl {
namespace {

TEST(KeysTest, GeneratesEachAlgorithm) {
  for (auto a : {KeyAlgorithm::kEcdsaP256, KeyAlgorithm::kEcdsaP384,
                 KeyAlgorithm::kRsa2048, KeyAlgorithm::kEd25519}) {
    auto key = GenerateKey(a);
    ASSERT_TRUE(key.ok()) << KeyAlgorithmName(a);
    EXPECT_EQ(DescribeKey(key->get()), KeyAlgorithmName(a));
    auto pem = PrivateKeyToPem(key->get());
    ASSERT_TRUE(pem.ok());
    auto back = ParsePrivateKeyPem(pem->view());
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(SamePublicKey(back->get(), key->get()));
  }
  EXPECT_FALSE(ParseKeyAlgorithm("dsa-1024").ok());
  EXPECT_EQ(*ParseKeyAlgorithm("rsa-4096"), KeyAlgorithm::kRsa4096);
}

TEST(CertificateTest, IssuesLeafFromCsrWithPointers) {
  auto now = std::chrono::system_clock::now();
  auto ca = CreateSelfSignedCa({}, now);
  ASSERT_TRUE(ca.ok());
  auto key = GenerateKey(KeyAlgorithm::kEcdsaP256);
  auto csr_pem =
      MakeCsrPem(key->get(), "web.example", {"web.example", "www.web.example"});
  ASSERT_TRUE(csr_pem.ok());
  auto csr = ParseCsrPem(*csr_pem);
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  EXPECT_EQ(csr->common_name, "web.example");
  EXPECT_EQ(csr->dns_names.size(), 2u);

  IssueRequest r;
  r.subject = X509_REQ_get_subject_name(csr->request.get());
  r.public_key = csr->public_key();
  r.not_before = now;
  r.not_after = now + std::chrono::hours(24);
  r.key_usage = "digitalSignature";
  r.extended_key_usage = "serverAuth";
  r.dns_names = csr->dns_names;
  r.crl_distribution_url = "http://127.0.0.1:8080/.well-known/pki/crl/iss-local";
  r.ocsp_url = "http://127.0.0.1:8080/.well-known/pki/ocsp/iss-local";
  auto serial = Serial::Random();
  auto cert = IssueCertificate(r, *serial, ca->cert.get(), ca->key.get());
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_TRUE(SignedBy(cert->get(), ca->cert.get()));
  EXPECT_EQ(Serial::FromAsn1(X509_get0_serialNumber(cert->get()))->hex(), serial->hex());
  EXPECT_EQ(IssuerOf(cert->get()), SubjectOf(ca->cert.get()));
  EXPECT_EQ(SubjectOf(cert->get()), "CN=web.example");
  // Round trip through PEM and DER.
  auto pem = ParseCertificatePem(CertificateToPem(cert->get()));
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(CertificateToDer(pem->get()), CertificateToDer(cert->get()));
  // The pointers relying parties follow.
  UniquePtr<AUTHORITY_INFO_ACCESS> aia(static_cast<AUTHORITY_INFO_ACCESS*>(
      X509_get_ext_d2i(cert->get(), NID_info_access, nullptr, nullptr)));
  ASSERT_NE(aia, nullptr);
  UniquePtr<CRL_DIST_POINTS> cdp(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(cert->get(), NID_crl_distribution_points, nullptr, nullptr)));
  ASSERT_NE(cdp, nullptr);
}

TEST(CertificateTest, RefusesUrlsThatCouldInjectExtensionSyntax) {
  auto now = std::chrono::system_clock::now();
  auto ca = CreateSelfSignedCa({}, now);
  IssueRequest r;
  r.common_name = "x";
  r.public_key = ca->key.get();
  r.not_before = now;
  r.not_after = now + std::chrono::hours(1);
  r.ocsp_url = "http://a,URI:http://evil";
  auto cert = IssueCertificate(r, *Serial::Random(), ca->cert.get(), ca->key.get());
  EXPECT_EQ(cert.status().code(), StatusCode::kInvalidArgument);
}

TEST(CsrTest, RefusesGarbageAndWeakKeys) {
  EXPECT_EQ(ParseCsrPem("hello").status().code(), StatusCode::kInvalidArgument);
  // A 1024-bit RSA key is refused.
  UniquePtr<EVP_PKEY> weak(EVP_RSA_gen(1024));
  ASSERT_TRUE(weak);
  auto pem = MakeCsrPem(weak.get(), "weak", {});
  ASSERT_TRUE(pem.ok());
  auto csr = ParseCsrPem(*pem);
  ASSERT_FALSE(csr.ok());
  EXPECT_NE(csr.status().message().find("1024"), std::string::npos);
}

TEST(CsrTest, RefusesTamperedSignature) {
  auto key = GenerateKey(KeyAlgorithm::kRsa2048);
  auto pem = MakeCsrPem(key->get(), "a.example", {"a.example"});
  ASSERT_TRUE(pem.ok());
  auto csr = ParseCsrPem(*pem);
  ASSERT_TRUE(csr.ok());
  // Flip one bit of the signature (the last byte of the DER) and re-encode.
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(csr->request.get(), &der);
  ASSERT_GT(len, 0);
  der[len - 1] ^= 0x01;
  const unsigned char* p = der;
  UniquePtr<X509_REQ> tampered(d2i_X509_REQ(nullptr, &p, len));
  OPENSSL_free(der);
  ASSERT_TRUE(tampered);
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), tampered.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  auto refused = ParseCsrPem(std::string(data, static_cast<size_t>(n)));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("signature"), std::string::npos);
}

// Found by csr_fuzz: an extension request that does not parse was taken for
// "no extensions" (the CSR was issued without the names it asked for), and
// OpenSSL's errors were left on the thread's queue, where the next failure
// on that thread (another client's request in certctld) would report them.
TEST(CsrTest, RefusesAnExtensionRequestThatDoesNotParse) {
  auto key = GenerateKey(KeyAlgorithm::kEd25519);
  ASSERT_TRUE(key.ok());
  UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("a.example"), -1, -1,
                             0);
  ASSERT_EQ(X509_REQ_set_pubkey(req.get(), key->get()), 1);
  // extensionRequest holding SEQUENCE { INTEGER 1 }: not a list of Extensions.
  const unsigned char not_extensions[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  ASSERT_EQ(X509_REQ_add1_attr_by_NID(req.get(), NID_ext_req, V_ASN1_SEQUENCE,
                                      not_extensions, sizeof not_extensions),
            1);
  ASSERT_GT(X509_REQ_sign(req.get(), key->get(), nullptr), 0);
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_X509_REQ(bio.get(), req.get()), 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  ERR_clear_error();

  auto csr = ParseCsrPem(std::string(data, static_cast<size_t>(n)));
  ASSERT_FALSE(csr.ok());
  EXPECT_EQ(csr.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(csr.status().message().find("extension"), std::string::npos)
      << csr.status().ToString();
  EXPECT_EQ(ERR_peek_error(), 0u) << "ParseCsrPem left an OpenSSL error on the queue";
}

TEST(BundleTest, ParsesAndRefuses) {
  auto now = std::chrono::system_clock::now();
  auto a = CreateSelfSignedCa({}, now);
  auto b = CreateSelfSignedCa({.common_name = "second"}, now);
  std::string two =
      CertificateToPem(a->cert.get()) + "\n" + CertificateToPem(b->cert.get());
  auto bundle = ParseCertificateBundlePem(two);
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(bundle->size(), 2u);
  EXPECT_FALSE(ParseCertificateBundlePem("").ok());
  EXPECT_FALSE(ParseCertificateBundlePem(two + "garbage").ok());
  auto key = ParseCertificateBundlePem(
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace certctl
