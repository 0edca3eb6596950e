#include "certctl/ops/leadership.h"

#include <gtest/gtest.h>

#include "store/operation_lock.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

using Change = ops::Leadership::Change;

class LeadershipTest : public testing::DatabaseTest {};

TEST_F(LeadershipTest, OneLeaderAndATakeOverWhenItGoes) {
  auto other = Database::Open({.url = url_, .pool_size = 2});  // another replica
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ops::Leadership first(db(), "scheduler:test", "certctld");
  ops::Leadership second(**other, "scheduler:test", "certctld");
  EXPECT_EQ(first.Refresh(), Change::kGained);
  EXPECT_TRUE(first.leading());
  EXPECT_EQ(second.Refresh(), Change::kNone);
  EXPECT_FALSE(second.leading());
  EXPECT_EQ(first.Refresh(), Change::kNone);  // still leading
  auto holder = OperationLock::FindHolder(db(), "scheduler:test");
  ASSERT_TRUE(holder.ok() && holder->has_value());
  EXPECT_EQ((*holder)->holder, "certctld");

  first.Release();
  EXPECT_FALSE(first.leading());
  EXPECT_EQ(second.Refresh(), Change::kGained);
  EXPECT_EQ(first.Refresh(), Change::kNone);
}

TEST_F(LeadershipTest, ALostConnectionIsALostLeadership) {
  ops::Leadership leader(db(), "scheduler:test", "certctld");
  ASSERT_EQ(leader.Refresh(), Change::kGained);
  auto holder = OperationLock::FindHolder(db(), "scheduler:test");
  ASSERT_TRUE(holder.ok() && holder->has_value());
  testing::Sql(url_, "SELECT pg_terminate_backend(" +
                         std::to_string((*holder)->backend_pid) + ")");
  EXPECT_EQ(leader.Refresh(), Change::kLost);
  EXPECT_FALSE(leader.leading());
  // Nobody holds it any more: the next try takes it again.
  EXPECT_EQ(leader.Refresh(), Change::kGained);
}

}  // namespace
}  // namespace certctl
