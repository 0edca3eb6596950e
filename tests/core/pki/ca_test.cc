#include "certctl/pki/ca.h"

#include <gtest/gtest.h>

#include "certctl/pki/certificate.h"
#include "certctl/util/files.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

using std::chrono::hours;

class CaValidationTest : public ::testing::Test {
 protected:
  TimePoint now_ = std::chrono::system_clock::now();

  // A self-signed certificate for `key` with the given CA-ness and key usage.
  UniquePtr<X509> SelfSigned(EVP_PKEY* key, bool is_ca, const std::string& key_usage,
                             TimePoint not_before, TimePoint not_after) {
    IssueRequest r;
    r.common_name = "test CA";
    r.public_key = key;
    r.not_before = not_before;
    r.not_after = not_after;
    r.is_ca = is_ca;
    r.key_usage = key_usage;
    auto cert = IssueCertificate(r, *Serial::Random(), nullptr, key);
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    return std::move(cert).value();
  }

  UniquePtr<EVP_PKEY> Key() {
    return std::move(GenerateKey(KeyAlgorithm::kEcdsaP256).value());
  }

  std::string Refusal(X509* cert, EVP_PKEY* key) {
    Status s = ValidateCa(cert, key, now_);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
    return s.message();
  }
};

TEST_F(CaValidationTest, AcceptsAProperCa) {
  auto ca = CreateSelfSignedCa({}, now_);
  ASSERT_TRUE(ca.ok());
  EXPECT_TRUE(ValidateCa(ca->cert.get(), ca->key.get(), now_).ok());
  EXPECT_EQ(SubjectOf(ca->cert.get()), "CN=certctl Local CA,O=certctl");
  EXPECT_NEAR(std::chrono::duration_cast<hours>(NotAfter(ca->cert.get()) - now_).count(),
              24 * 3650, 1);
}

TEST_F(CaValidationTest, RefusesNonCa) {
  auto key = Key();
  auto cert = SelfSigned(key.get(), false, "keyCertSign,cRLSign", now_ - hours(1),
                         now_ + hours(9));
  EXPECT_NE(Refusal(cert.get(), key.get()).find("CA:TRUE"), std::string::npos);
}

TEST_F(CaValidationTest, RefusesMissingKeyUsage) {
  auto key = Key();
  auto cert = SelfSigned(key.get(), true, "", now_ - hours(1), now_ + hours(9));
  EXPECT_NE(Refusal(cert.get(), key.get()).find("no keyUsage"), std::string::npos);
}

TEST_F(CaValidationTest, RefusesMissingKeyCertSign) {
  auto key = Key();
  auto cert = SelfSigned(key.get(), true, "cRLSign", now_ - hours(1), now_ + hours(9));
  EXPECT_NE(Refusal(cert.get(), key.get()).find("lacks keyCertSign"), std::string::npos);
}

TEST_F(CaValidationTest, RefusesMissingCrlSign) {
  auto key = Key();
  auto cert =
      SelfSigned(key.get(), true, "keyCertSign", now_ - hours(1), now_ + hours(9));
  EXPECT_NE(Refusal(cert.get(), key.get()).find("lacks cRLSign"), std::string::npos);
}

TEST_F(CaValidationTest, RefusesKeyMismatch) {
  auto ca = CreateSelfSignedCa({}, now_);
  auto other = Key();
  EXPECT_NE(Refusal(ca->cert.get(), other.get()).find("does not match"),
            std::string::npos);
}

TEST_F(CaValidationTest, RefusesExpiredAndNotYetValid) {
  auto key = Key();
  auto expired = SelfSigned(key.get(), true, "keyCertSign,cRLSign", now_ - hours(48),
                            now_ - hours(24));
  EXPECT_NE(Refusal(expired.get(), key.get()).find("expired"), std::string::npos);
  auto future = SelfSigned(key.get(), true, "keyCertSign,cRLSign", now_ + hours(24),
                           now_ + hours(48));
  EXPECT_NE(Refusal(future.get(), key.get()).find("not yet valid"), std::string::npos);
}

TEST_F(CaValidationTest, LoadCaFromFilesAndRefusals) {
  testing::TempDir dir;
  auto ca = CreateSelfSignedCa({}, now_);
  ASSERT_TRUE(WriteCaFiles(*ca, dir / "ca.crt", dir / "ca.key").ok());
  EXPECT_EQ(*FileMode(dir / "ca.key"), 0600u);
  auto loaded = LoadCa(dir / "ca.crt", dir / "ca.key", now_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(FingerprintSha256(loaded->cert.get()), FingerprintSha256(ca->cert.get()));

  // Never overwritten without being asked.
  EXPECT_EQ(WriteCaFiles(*ca, dir / "ca.crt", dir / "ca.key").code(),
            StatusCode::kAlreadyExists);

  auto missing = LoadCa(dir / "nope.crt", dir / "ca.key", now_);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.crt"), std::string::npos);

  ASSERT_TRUE(
      WriteFileAtomic(dir / "garbage.crt", "not a certificate", {.mode = 0644}).ok());
  EXPECT_EQ(LoadCa(dir / "garbage.crt", dir / "ca.key", now_).status().code(),
            StatusCode::kInvalidArgument);

  ::chmod((dir / "ca.key").c_str(), 0644);
  auto world = LoadCa(dir / "ca.crt", dir / "ca.key", now_);
  EXPECT_EQ(world.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(world.status().message().find("0644"), std::string::npos);
}

}  // namespace
}  // namespace certctl
