// CrlService's reload off the request path (MarkForReload / ReloadMarked,
// certctld's CRL loader) and Publish: each new CRL is read and verified
// once, the requests meanwhile get the previous one, a CRL that fails its
// check is never served, and every Get hands out the same immutable CRL.
#include <gtest/gtest.h>

#include "certctl/util/time_format.h"
#include "core/ops/crl_fixture.h"
#include "store/operation_lock.h"

namespace certctl {
namespace {

using std::chrono::hours;

TimePoint Now() {
  return FromUnixSeconds(ToUnixSeconds(std::chrono::system_clock::now()));
}

class CrlReloadTest : public testing::CrlOpsTest {
 protected:
  std::shared_ptr<const ops::CrlArtifact> MustGet(ops::CrlService& service) {
    auto served = service.Get(kLocalIssuerId, std::nullopt);
    EXPECT_TRUE(served.ok()) << served.status().ToString();
    return served.ok() ? served->crl : nullptr;
  }
};

TEST_F(CrlReloadTest, ANewCrlIsLoadedOnceByTheReloadNotByTheRequests) {
  Regenerate(ops::CrlTrigger::kScheduled);
  ops::CrlService service(Context());
  auto old = MustGet(service);
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(service.Loads(), 1);

  Regenerate(ops::CrlTrigger::kAdmin);  // certctl-admin crl regenerate, say
  service.MarkForReload(kLocalIssuerId);
  // Until the reload has run, the requests get the CRL in memory: the very
  // same object, not a re-read.
  auto meanwhile = MustGet(service);
  EXPECT_EQ(meanwhile.get(), old.get());
  EXPECT_EQ(service.Loads(), 1);

  EXPECT_EQ(service.ReloadMarked(), 1u);
  EXPECT_EQ(service.Loads(), 2);
  auto fresh = MustGet(service);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->crl_number, old->crl_number + 1);
  EXPECT_EQ(fresh->der, CachedDer());
  // Every later Get shares that one CRL; nothing is read again.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(MustGet(service).get(), fresh.get());
  EXPECT_EQ(service.Loads(), 2);
  EXPECT_EQ(service.ReloadMarked(), 0u);  // nothing marked any more
}

TEST_F(CrlReloadTest, ACrlThatFailsItsCheckIsNeverServedTheOldOneIs) {
  Regenerate(ops::CrlTrigger::kScheduled);
  ops::CrlServiceOptions options;
  options.generation_wait = std::chrono::milliseconds(100);
  ops::CrlService service(Context(), options);
  auto old = MustGet(service);
  ASSERT_NE(old, nullptr);
  // A row with a later number that does not verify, and no way to sign a
  // replacement (another process holds the CRL lock and keeps it).
  std::string forged = SignCrl(Impostor(), old->crl_number + 5, Now(), Now() + hours(24));
  PutCachedDer(forged);
  auto other = Database::Open({.url = url_, .pool_size = 2});
  ASSERT_TRUE(other.ok());
  auto lock = OperationLock::Acquire(**other, ops::CrlLockName(kLocalIssuerId),
                                     {"certctld", "replica-b", 2});
  ASSERT_TRUE(lock.ok());

  service.MarkForReload(kLocalIssuerId);
  EXPECT_EQ(service.ReloadMarked(), 1u);
  EXPECT_EQ(service.Loads(), 1);  // the forged row was read but not loaded
  auto served = MustGet(service);
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(served.get(), old.get());
  EXPECT_NE(served->der, forged);
}

TEST_F(CrlReloadTest, WithoutAReloadTheRequestsLookThemselvesAfterTheRecheckInterval) {
  Regenerate(ops::CrlTrigger::kScheduled);
  ops::CrlServiceOptions options;
  options.recheck_interval = std::chrono::milliseconds(0);  // already past
  ops::CrlService service(Context(), options);
  auto old = MustGet(service);
  ASSERT_NE(old, nullptr);
  Regenerate(ops::CrlTrigger::kAdmin);
  service.MarkForReload(kLocalIssuerId);  // and no loader ever runs
  auto served = MustGet(service);
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(served->crl_number, old->crl_number + 1);
}

TEST_F(CrlReloadTest, APublishedCrlIsServedWithoutReadingItBack) {
  ops::CrlService service(Context());
  auto ctx = Context();
  ops::OpReport report;
  std::vector<ops::CrlArtifact> written;
  ops::RegenerateOptions regenerate;
  regenerate.artifacts = &written;
  ASSERT_TRUE(ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled,
                                 regenerate, report)
                  .ok());
  ASSERT_EQ(written.size(), 1u);
  ops::CrlArtifact older = written.front();
  --older.crl_number;
  service.Publish(written.front());
  auto served = MustGet(service);
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(served->der, CachedDer());
  EXPECT_EQ(service.Loads(), 0);
  service.Publish(older);  // late: a later CRL is already served
  EXPECT_EQ(MustGet(service).get(), served.get());
}

}  // namespace
}  // namespace certctl
