#include "certctl/ops/trust.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/util/files.h"
#include "support/ops_fixture.h"
#include "support/test_pki.h"

namespace certctl {
namespace {

using testing::Sql;

using std::chrono::hours;

std::string CaPem(const std::string& cn, TimePoint not_before, TimePoint not_after) {
  return testing::SelfSignedCaPem(cn, not_before, not_after);
}

class TrustTest : public testing::OpsTest {
 protected:
  TimePoint now_ = std::chrono::system_clock::now();
  std::string Good(const std::string& cn) {
    return CaPem(cn, now_ - hours(1), now_ + hours(24));
  }
};

TEST_F(TrustTest, CheckNamesTheExactReason) {
  auto check = [&](const std::string& pem) { return ops::CheckTrustBundle(pem, now_); };
  EXPECT_TRUE(check(Good("a") + Good("b")).ok());
  EXPECT_EQ(check(Good("a") + Good("b")).entries.size(), 2u);
  EXPECT_EQ(*check("").problem, ops::TrustProblem::kEmpty);
  EXPECT_EQ(*check(Good("a") + "junk").problem, ops::TrustProblem::kGarbage);
  auto expired = check(Good("a") + CaPem("old", now_ - hours(48), now_ - hours(24)));
  EXPECT_EQ(*expired.problem, ops::TrustProblem::kExpired);
  EXPECT_NE(expired.message.find("certificate 2 (CN=old)"), std::string::npos)
      << expired.message;
  EXPECT_EQ(*check(CaPem("future", now_ + hours(1), now_ + hours(48))).problem,
            ops::TrustProblem::kNotYetValid);
  EXPECT_EQ(*ops::CheckTrustBundleFile(*dir_ / "missing.pem", now_).problem,
            ops::TrustProblem::kUnreadable);
}

TEST_F(TrustTest, BadReloadKeepsTheOldPoolAndAudits) {
  std::string path = *dir_ / "est.pem";
  ASSERT_TRUE(WriteFileAtomic(path, Good("first"), {.mode = 0644}).ok());
  ops::TrustAnchorRegistry registry({{"est", path}});
  auto ctx = Context();
  ops::OpReport first;
  ASSERT_TRUE(ops::ReloadTrustAnchors(ctx, registry, "est", first).ok());
  auto before = registry.Find("est")->Snapshot();
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(before->entries[0].subject, "CN=first");

  ASSERT_TRUE(WriteFileAtomic(
                  path, "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n",
                  {.mode = 0644, .keep_backup = false})
                  .ok());
  ops::OpReport bad;
  auto refused = ops::ReloadTrustAnchors(ctx, registry, "est", bad);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();  // the answer is the refusal
  EXPECT_TRUE(refused->refused());
  ASSERT_EQ(refused->bundles.size(), 1u);
  EXPECT_EQ(refused->bundles[0].problem, ops::TrustProblem::kGarbage);
  EXPECT_EQ(refused->bundles[0].fingerprint, before->fingerprint);
  EXPECT_NE(refused->RefusalMessage().find("est: garbage"), std::string::npos)
      << refused->RefusalMessage();
  ASSERT_EQ(bad.findings.size(), 1u);
  EXPECT_EQ(bad.findings[0].code, "trust.garbage");
  EXPECT_EQ(registry.Find("est")->Snapshot(), before);  // the old pool stays
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events "
                "WHERE action = 'trust.reload'"),
            "started,succeeded,started,failed");

  ops::OpReport unknown;
  EXPECT_EQ(ops::ReloadTrustAnchors(ctx, registry, "nope", unknown).status().code(),
            StatusCode::kNotFound);
}

TEST_F(TrustTest, ReadersNeverSeeAHalfLoadedPool) {
  std::string path = *dir_ / "b.pem";
  ASSERT_TRUE(WriteFileAtomic(path, Good("x") + Good("y"), {.mode = 0644}).ok());
  ops::TrustAnchorHolder holder("b", path);
  ASSERT_TRUE(holder.Reload(now_).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop) {
      auto pool = holder.Snapshot();
      if (!pool || pool->entries.size() != 2 || !pool->store) ++bad;
    }
  });
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(holder.Reload(now_).ok());
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace certctl
