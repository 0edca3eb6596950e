#include "certctl/pki/crl_builder.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/crl_reader.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "certctl/util/time_format.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

using testing::TempDir;

const TimePoint kNow = FromUnixSeconds(ToUnixSeconds(std::chrono::system_clock::now()));

struct Revoked {
  std::string serial;
  int reason;
};

// Serials chosen to exercise the INTEGER encoding: one nibble, a top bit that
// needs a sign octet, and the longest canonical serial.
const std::vector<Revoked> kEntries = {
    {"1", 0},
    {"80ff", 1},
    {"7fffffffffffffffffffffffffffffffffffffff", 4},
    {"3f0a9c", 9},
};

Result<std::string> Build(const CaMaterial& ca, int64_t number, TimePoint this_update,
                          TimePoint next_update, const std::vector<Revoked>& entries) {
  ASSIGN_OR_RETURN(auto b, CrlBuilder::Start({ca.cert.get(), ca.key.get(), number,
                                              this_update, next_update}));
  for (const auto& e : entries) {
    RETURN_IF_ERROR(b->Add(e.serial, this_update - std::chrono::hours(1), e.reason));
  }
  return b->Finish();
}

// `openssl crl -CAfile`, the way an operator checks a CRL.
ProcessResult OpensslCrlText(const TempDir& dir, const CaMaterial& ca,
                             const std::string& der) {
  EXPECT_TRUE(
      WriteFileAtomic(dir / "ca.pem", CertificateToPem(ca.cert.get()), {.mode = 0644})
          .ok());
  EXPECT_TRUE(WriteFileAtomic(dir / "crl.der", der, {.mode = 0644}).ok());
  auto r = RunProcess({"openssl", "crl", "-inform", "DER", "-in", dir / "crl.der",
                       "-CAfile", dir / "ca.pem", "-noout", "-text"});
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : ProcessResult{};
}

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

class CrlBuilderAlgorithmTest : public ::testing::TestWithParam<KeyAlgorithm> {};

TEST_P(CrlBuilderAlgorithmTest, OpensslVerifiesTheCrlAndListsEveryEntry) {
  auto ca = CreateSelfSignedCa({.algorithm = GetParam()}, kNow);
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  auto der = Build(*ca, 42, kNow, kNow + std::chrono::hours(24 * 7), kEntries);
  ASSERT_TRUE(der.ok()) << der.status().ToString();

  TempDir dir;
  ProcessResult out = OpensslCrlText(dir, *ca, *der);
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("verify OK"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("Version 2 (0x1)"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("X509v3 CRL Number: \n                42"), std::string::npos)
      << out.output;
  std::string skid = HexEncode(SubjectKeyId(ca->cert.get()));
  std::transform(skid.begin(), skid.end(), skid.begin(), ::toupper);
  std::string aki;
  for (size_t i = 0; i < skid.size(); i += 2) aki += (i ? ":" : "") + skid.substr(i, 2);
  EXPECT_NE(out.output.find("X509v3 Authority Key Identifier"), std::string::npos);
  EXPECT_NE(out.output.find(aki), std::string::npos) << aki << "\n" << out.output;
  EXPECT_NE(out.output.find("Serial Number: 01"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("Serial Number: 80FF"), std::string::npos);
  EXPECT_NE(out.output.find("Serial Number: 7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
            std::string::npos);
  EXPECT_NE(out.output.find("Serial Number: 3F0A9C"), std::string::npos);
  EXPECT_NE(out.output.find("Key Compromise"), std::string::npos);
  EXPECT_NE(out.output.find("Superseded"), std::string::npos);
  EXPECT_NE(out.output.find("Privilege Withdrawn"), std::string::npos);
  // reasonCode is omitted for unspecified: three of the four entries carry one.
  EXPECT_EQ(Occurrences(out.output, "X509v3 CRL Reason Code"), 3u) << out.output;
  EXPECT_NE(
      out.output.find("Issuer: " + std::string("O = certctl, CN = certctl Local CA")),
      std::string::npos)
      << out.output;

  // Our own reader agrees, entry by entry.
  auto view = CrlView::Parse(*der);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_TRUE(view->VerifySignature(ca->cert.get()).ok());
  EXPECT_EQ(view->crl_number(), 42);
  EXPECT_EQ(view->entry_count(), 4);
  EXPECT_EQ(view->authority_key_id(), SubjectKeyId(ca->cert.get()));
  EXPECT_EQ(view->this_update(), kNow);
  EXPECT_EQ(view->next_update(), kNow + std::chrono::hours(24 * 7));
  std::vector<Revoked> seen;
  ASSERT_TRUE(view->ForEachEntry([&](const CrlEntry& e) {
                    seen.push_back({e.serial, e.reason});
                    EXPECT_EQ(e.revoked_at, kNow - std::chrono::hours(1));
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(seen.size(), kEntries.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].serial, kEntries[i].serial);
    EXPECT_EQ(seen[i].reason, kEntries[i].reason);
  }
  // And OpenSSL's own CRL parser accepts it too.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der->size())));
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(ca->cert.get())), 1);
}

INSTANTIATE_TEST_SUITE_P(
    EachCaKey, CrlBuilderAlgorithmTest,
    ::testing::Values(KeyAlgorithm::kEcdsaP256, KeyAlgorithm::kEcdsaP384,
                      KeyAlgorithm::kRsa2048, KeyAlgorithm::kEd25519),
    [](const auto& info) {
      std::string name(KeyAlgorithmName(info.param));
      name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
      return name;
    });

TEST(CrlBuilderTest, EmptyCrlHasNoRevokedCertificatesList) {
  auto ca = CreateSelfSignedCa({}, kNow);
  auto der = Build(*ca, 1, kNow, kNow + std::chrono::hours(24), {});
  ASSERT_TRUE(der.ok());
  TempDir dir;
  ProcessResult out = OpensslCrlText(dir, *ca, *der);
  EXPECT_NE(out.output.find("verify OK"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("No Revoked Certificates."), std::string::npos) << out.output;
  auto view = CrlView::Parse(*der);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->entry_count(), 0);
}

TEST(CrlBuilderTest, TimesFrom2050AreGeneralizedTime) {
  auto ca = CreateSelfSignedCa({.validity = std::chrono::hours(24 * 365 * 40)}, kNow);
  TimePoint later = *ParseRfc3339("2051-03-01T12:00:00Z");
  auto der = Build(*ca, 7, later, later + std::chrono::hours(24), {{"abc", 1}});
  ASSERT_TRUE(der.ok());
  TempDir dir;
  ProcessResult out = OpensslCrlText(dir, *ca, *der);
  EXPECT_NE(out.output.find("Last Update: Mar  1 12:00:00 2051 GMT"), std::string::npos)
      << out.output;
  auto view = CrlView::Parse(*der);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->this_update(), later);
}

TEST(CrlBuilderTest, RefusesBadParametersAndEntries) {
  auto ca = CreateSelfSignedCa({}, kNow);
  auto other = CreateSelfSignedCa({}, kNow);
  auto start = [&](int64_t number, TimePoint next, EVP_PKEY* key) {
    return CrlBuilder::Start({ca->cert.get(), key, number, kNow, next}).status().code();
  };
  TimePoint next = kNow + std::chrono::hours(1);
  EXPECT_EQ(start(0, next, ca->key.get()), StatusCode::kInvalidArgument);
  EXPECT_EQ(start(1, kNow, ca->key.get()), StatusCode::kInvalidArgument);
  EXPECT_EQ(start(1, next, other->key.get()), StatusCode::kInvalidArgument);

  auto b = CrlBuilder::Start({ca->cert.get(), ca->key.get(), 1, kNow, next});
  ASSERT_TRUE(b.ok());
  for (const char* bad :
       {"", "00ab", "AB", "xyz", "0", "1234567890123456789012345678901234567890a"}) {
    Status s = (*b)->Add(bad, kNow, 0);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
  for (int reason : {-1, 7, 11}) {
    Status s = (*b)->Add("ab", kNow, reason);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << reason;
    EXPECT_NE(s.message().find("reason"), std::string::npos);
  }
  EXPECT_EQ((*b)->entry_count(), 0);  // nothing half-added
  ASSERT_TRUE((*b)->Add("ab", kNow, 1).ok());
  auto der = (*b)->Finish();
  ASSERT_TRUE(der.ok());
  EXPECT_EQ(CrlView::Parse(*der)->entry_count(), 1);
  EXPECT_EQ((*b)->Finish().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*b)->Add("cd", kNow, 1).code(), StatusCode::kFailedPrecondition);
}

TEST(CrlReaderTest, RefusesGarbageTamperingAndTheWrongCa) {
  auto ca = CreateSelfSignedCa({}, kNow);
  auto der = Build(*ca, 3, kNow, kNow + std::chrono::hours(1), kEntries);
  ASSERT_TRUE(der.ok());
  for (const std::string& bad : {std::string("not a CRL"), std::string(),
                                 der->substr(0, der->size() - 5), *der + '\0'}) {
    auto view = CrlView::Parse(bad);
    ASSERT_FALSE(view.ok());
    EXPECT_EQ(view.status().code(), StatusCode::kCorruption) << view.status().ToString();
  }
  // The last octet belongs to the signature: it still parses, but does not verify.
  std::string tampered = *der;
  tampered.back() ^= 0x01;
  auto view = CrlView::Parse(tampered);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->VerifySignature(ca->cert.get()).code(), StatusCode::kCorruption);
  // An entry's serial changed: the signature covers it.
  std::string edited = *der;
  size_t at = edited.find(std::string("\x80\xff", 2));
  ASSERT_NE(at, std::string::npos);
  edited[at + 1] = '\xfe';
  ASSERT_TRUE(CrlView::Parse(edited).ok());
  EXPECT_FALSE(CrlView::Parse(edited)->VerifySignature(ca->cert.get()).ok());
  // Another CA with the same name did not sign it.
  auto other = CreateSelfSignedCa({}, kNow);
  Status s = CrlView::Parse(*der)->VerifySignature(other->cert.get());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("does not verify"), std::string::npos) << s.message();
  // A CA with another name is refused by name.
  auto named = CreateSelfSignedCa({.common_name = "Other CA"}, kNow);
  s = CrlView::Parse(*der)->VerifySignature(named->cert.get());
  EXPECT_NE(s.message().find("is not the CA"), std::string::npos) << s.message();
}

TEST(CrlReaderTest, NoTruncationOrFlippedByteIsAccepted) {
  auto ca = CreateSelfSignedCa({}, kNow);
  auto der = Build(*ca, 9, kNow, kNow + std::chrono::hours(1), kEntries);
  ASSERT_TRUE(der.ok());
  for (size_t n = 0; n < der->size(); ++n) {
    std::string truncated = der->substr(0, n);
    EXPECT_FALSE(CrlView::Parse(truncated).ok()) << "truncated to " << n;
  }
  for (size_t i = 0; i < der->size(); ++i) {
    std::string flipped = *der;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x04);
    auto view = CrlView::Parse(flipped);
    if (view.ok()) {
      EXPECT_FALSE(view->VerifySignature(ca->cert.get()).ok()) << "byte " << i;
    }
  }
}

}  // namespace
}  // namespace certctl
