#include "store/operation_lock.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/eventually.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

class OperationLockTest : public testing::DatabaseTest {};

TEST_F(OperationLockTest, SecondHolderIsBusyAndNamesTheFirst) {
  auto first =
      OperationLock::Acquire(db(), "crl:iss-local", {"certctld", "host-a", 4242});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // Another process (its own pool) is refused at once, naming the holder.
  auto other = Database::Open({.url = url_, .pool_size = 2});
  ASSERT_TRUE(other.ok());
  auto second =
      OperationLock::Acquire(**other, "crl:iss-local", {"certctl-admin", "host-b", 7});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
  const std::string& m = second.status().message();
  EXPECT_NE(m.find("certctld"), std::string::npos) << m;
  EXPECT_NE(m.find("host-a"), std::string::npos) << m;
  EXPECT_NE(m.find("4242"), std::string::npos) << m;
  EXPECT_NE(m.find("since"), std::string::npos) << m;
  // A different lock name is independent.
  auto other_name = OperationLock::Acquire(**other, "crl:iss-other", {"x", "h", 1});
  EXPECT_TRUE(other_name.ok());
  // TryAcquire reports "not mine" without an error.
  auto tried = OperationLock::TryAcquire(**other, "crl:iss-local", {"x", "h", 1});
  ASSERT_TRUE(tried.ok());
  EXPECT_EQ(tried->get(), nullptr);
  // Released when the holder goes away.
  first->reset();
  auto third =
      OperationLock::Acquire(**other, "crl:iss-local", {"certctl-admin", "host-b", 7});
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_F(OperationLockTest, WaitsForARelease) {
  auto first = OperationLock::Acquire(db(), "ocsp:iss-local", {"a", "h", 1});
  ASSERT_TRUE(first.ok());
  auto other = Database::Open({.url = url_, .pool_size = 2});
  std::thread releaser([&] {
    // The second caller holds its pooled connection while it keeps trying.
    EXPECT_TRUE(testing::Eventually([&] { return (*other)->Stats().in_use == 1; }));
    first->reset();
  });
  auto second = OperationLock::Acquire(**other, "ocsp:iss-local", {"b", "h", 2},
                                       std::chrono::milliseconds(5000));
  releaser.join();
  EXPECT_TRUE(second.ok()) << second.status().ToString();
}

}  // namespace
}  // namespace certctl
