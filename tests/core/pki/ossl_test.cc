#include "certctl/pki/ossl.h"

#include <gtest/gtest.h>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"

namespace certctl {
namespace {

TEST(OsslTest, EncodeDerRoundTrips) {
  auto ca = CreateSelfSignedCa({}, std::chrono::system_clock::now());
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  auto der = EncodeDer(i2d_X509, ca->cert.get(), "certificate");
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  auto back = ParseCertificateDer(*der);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(X509_cmp(back->get(), ca->cert.get()), 0);
  EXPECT_EQ(CertificateToDer(ca->cert.get()), *der);
}

TEST(OsslTest, EncodeDerFailureNamesWhatWasEncoded) {
  auto ca = CreateSelfSignedCa({}, std::chrono::system_clock::now());
  ASSERT_TRUE(ca.ok());
  auto failing = [](const X509*, unsigned char**) { return -1; };
  auto bad = EncodeDer(failing, ca->cert.get(), "test certificate");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_EQ(bad.status().message().rfind("encode test certificate", 0), 0u)
      << bad.status().message();
}

TEST(OsslTest, ExtensionStackEncodesWhatItOwns) {
  UniquePtr<STACK_OF(X509_EXTENSION)> exts(sk_X509_EXTENSION_new_null());
  ASSERT_NE(exts, nullptr);
  auto empty = EncodeDer(i2d_X509_EXTENSIONS, exts.get(), "extensions");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, std::string("\x30\x00", 2));  // SEQUENCE {}
  UniquePtr<X509_EXTENSION> ext(
      X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:FALSE"));
  ASSERT_NE(ext, nullptr);
  ASSERT_GT(sk_X509_EXTENSION_push(exts.get(), ext.get()), 0);
  ext.release();  // the stack frees it
  auto one = EncodeDer(i2d_X509_EXTENSIONS, exts.get(), "extensions");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_GT(one->size(), empty->size());
}

}  // namespace
}  // namespace certctl
