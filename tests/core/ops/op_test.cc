#include "certctl/ops/op.h"

#include <gtest/gtest.h>

#include "certctl/log/logging.h"
#include "certctl/ops/op_json.h"
#include "store/operation_lock.h"
#include "support/ops_fixture.h"

namespace certctl {
namespace {

using testing::Sql;

class RunMutationTest : public testing::OpsTest {};

TEST_F(RunMutationTest, SuccessWritesStartAndEndEventsWithOneCorrelation) {
  auto ctx = Context();
  ops::OpReport report;
  Status s = ops::RunMutation(
      ctx, {"test.op", "iss-local", {{"x", 1}}, {"test:iss-local"}}, report, [&] {
        report.steps.push_back("did it");
        return Status::Ok();
      });
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events "
                "WHERE action = 'test.op'"),
            "started,succeeded");
  EXPECT_EQ(Sql(url_,
                "SELECT count(DISTINCT correlation_id) FROM audit_events WHERE action = "
                "'test.op'"),
            "1");
  EXPECT_EQ(Sql(url_,
                "SELECT detail FROM audit_events WHERE action = 'test.op' AND outcome = "
                "'succeeded'"),
            "did it");
  EXPECT_EQ(Sql(url_,
                "SELECT command_line FROM audit_events WHERE action = 'test.op' AND "
                "outcome = 'started'"),
            "certctl-test --run");
}

TEST_F(RunMutationTest, FailureIsAuditedToo) {
  auto ctx = Context();
  ops::OpReport report;
  Status s = ops::RunMutation(ctx, {"test.op", "iss-local", {}, {}}, report,
                              [] { return Status::Corruption("broken"); });
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(Sql(url_,
                "SELECT detail FROM audit_events WHERE action = 'test.op' AND outcome = "
                "'failed'"),
            "Corruption: broken");
}

TEST_F(RunMutationTest, HeldLockIsBusyAuditedAndBodyNotRun) {
  auto holder =
      OperationLock::Acquire(db(), "test:iss-local", {"certctld", "host-x", 99});
  ASSERT_TRUE(holder.ok());
  auto other = Database::Open({.url = url_, .pool_size = 2});
  ASSERT_TRUE(other.ok());
  ops::OpContext ctx{
      **other,      config_,   SystemClock::Instance(),
      NullLogger(), *keyring_, ops::Actor{"tester", "h", "certctl-admin", "x"}};
  bool ran = false;
  ops::OpReport report;
  Status s = ops::RunMutation(ctx, {"test.op", "iss-local", {}, {"test:iss-local"}},
                              report, [&] {
                                ran = true;
                                return Status::Ok();
                              });
  EXPECT_EQ(s.code(), StatusCode::kBusy);
  EXPECT_FALSE(ran);
  EXPECT_NE(s.message().find("host-x"), std::string::npos);
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events "
                "WHERE action = 'test.op'"),
            "started,failed");
}

TEST_F(RunMutationTest, DryRunWritesNothing) {
  auto ctx = Context(/*dry_run=*/true);
  int64_t before = Count("audit_events");
  ops::OpReport report;
  bool saw_dry = false;
  ASSERT_TRUE(ops::RunMutation(ctx, {"test.op", "x", {}, {"test:x"}}, report, [&] {
                saw_dry = ctx.dry_run;
                return Status::Ok();
              }).ok());
  EXPECT_TRUE(saw_dry);
  EXPECT_TRUE(report.dry_run);
  EXPECT_EQ(Count("audit_events"), before);
}

// The typed frame: the body's Result is what the caller gets, and what the
// audit end event says.
TEST_F(RunMutationTest, ATypedBodysResultIsReturnedAndAudited) {
  auto ctx = Context();
  ops::OpReport report;
  Result<int> value = ops::RunMutation(ctx, {"test.typed", "iss-local", {}, {}}, report,
                                       [&]() -> Result<int> {
                                         report.steps.push_back("counted");
                                         return 42;
                                       });
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, 42);
  EXPECT_EQ(report.operation, "test.typed");
  Result<int> failed =
      ops::RunMutation(ctx, {"test.typed", "iss-local", {}, {}}, report,
                       []() -> Result<int> { return Status::Corruption("no number"); });
  EXPECT_EQ(failed.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome || ':' || coalesce(detail, ''), ',' ORDER BY "
                "id) FROM "
                "audit_events WHERE action = 'test.typed'"),
            "started:,succeeded:counted,started:,failed:Corruption: no number");
}

TEST_F(RunMutationTest, ATypedBodyDoesNotRunWhenTheLockIsHeld) {
  auto holder = OperationLock::Acquire(db(), "test:typed", {"certctld", "host-y", 98});
  ASSERT_TRUE(holder.ok());
  auto other = Database::Open({.url = url_, .pool_size = 2});
  ASSERT_TRUE(other.ok());
  ops::OpContext ctx{
      **other,      config_,   SystemClock::Instance(),
      NullLogger(), *keyring_, ops::Actor{"tester", "h", "certctl-admin", "x"}};
  bool ran = false;
  ops::OpReport report;
  Result<std::string> r =
      ops::RunMutation(ctx, {"test.typed", "iss-local", {}, {"test:typed"}}, report,
                       [&]() -> Result<std::string> {
                         ran = true;
                         return std::string("done");
                       });
  EXPECT_EQ(r.status().code(), StatusCode::kBusy);
  EXPECT_FALSE(ran);
}

TEST(OpReportTest, JsonShapeIsStable) {
  ops::OpReport r;
  r.operation = "x.y";
  r.AddFinding("error", "x.bad", "s", "m");
  auto j = ops::ReportJson(r, Status::Ok(), {});
  for (const char* key :
       {"operation", "target", "dry_run", "ok", "error", "plan", "steps", "before",
        "after", "data", "findings", "duration_ms"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["findings"][0]["code"], "x.bad");
}

}  // namespace
}  // namespace certctl
