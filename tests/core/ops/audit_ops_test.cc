#include "certctl/ops/audit_ops.h"

#include <gtest/gtest.h>

#include "certctl/util/time_format.h"
#include "support/ops_fixture.h"

namespace certctl {
namespace {

using testing::Sql;

using std::chrono::hours;

class AuditOpsTest : public testing::OpsTest {
 protected:
  void Event(const std::string& actor, const std::string& action) {
    auto ctx = Context();
    ctx.actor.name = actor;
    ASSERT_TRUE(
        ops::WriteAuditEvent(ctx, action, "iss-local", "done", true, {{"n", 1}}).ok());
  }
};

TEST(AuditSinceTest, AcceptsTimesDatesAndDurations) {
  TimePoint now = *ParseRfc3339("2026-11-27T12:00:00Z");
  EXPECT_EQ(*ops::ParseSince("24h", now), now - hours(24));
  EXPECT_EQ(*ops::ParseSince("7d", now), now - hours(24 * 7));
  EXPECT_EQ(FormatRfc3339(*ops::ParseSince("2026-11-01", now)), "2026-11-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(*ops::ParseSince("2026-11-27T10:30:00Z", now)),
            "2026-11-27T10:30:00Z");
  for (const char* bad : {"", "yesterday", "24", "-1h", "2026-13-01"}) {
    auto r = ops::ParseSince(bad, now);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(AuditOpsTest, ListFiltersAndLimits) {
  Event("alice", "crl.regenerate");
  Event("bob", "cache.truncate");
  Event("alice", "cache.truncate");
  auto ctx = Context();

  ops::OpReport all;
  ASSERT_TRUE(ops::ListAuditEvents(ctx, {}, all).ok());
  // The fixture registered iss-local first (one event), then ours.
  EXPECT_EQ(all.data["count"], 4);
  EXPECT_EQ(all.data["limited"], false);
  EXPECT_EQ(all.data["events"][3]["actor"], "alice");
  EXPECT_EQ(all.data["events"][3]["parameters"]["n"], 1);  // an object, not text

  ops::OpReport by_actor;
  ASSERT_TRUE(ops::ListAuditEvents(ctx, {std::nullopt, "", "alice"}, by_actor).ok());
  EXPECT_EQ(by_actor.data["count"], 2);
  ops::OpReport both;
  ASSERT_TRUE(
      ops::ListAuditEvents(ctx, {std::nullopt, "cache.truncate", "alice"}, both).ok());
  EXPECT_EQ(both.data["count"], 1);
  ops::OpReport future;
  ASSERT_TRUE(
      ops::ListAuditEvents(ctx, {ctx.clock.Now() + hours(1), "", ""}, future).ok());
  EXPECT_EQ(future.data["count"], 0);

  ops::OpReport limited;
  ASSERT_TRUE(ops::ListAuditEvents(ctx, {std::nullopt, "", "", 2}, limited).ok());
  EXPECT_EQ(limited.data["count"], 2);
  EXPECT_EQ(limited.data["limited"], true);
  EXPECT_EQ(limited.data["events"][1]["action"], "cache.truncate");  // the newest two
  EXPECT_EQ(limited.data["events"][1]["actor"], "alice");

  ops::OpReport bad;
  EXPECT_EQ(ops::ListAuditEvents(ctx, {std::nullopt, "", "", 0}, bad).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(AuditOpsTest, VerifyReportsTheFirstBrokenLink) {
  for (int i = 0; i < 5; ++i) Event("alice", "crl.regenerate");
  auto ctx = Context();
  ops::OpReport intact;
  ASSERT_TRUE(ops::VerifyAuditLog(ctx, intact).ok());
  EXPECT_EQ(intact.data["intact"], true);
  EXPECT_EQ(intact.data["rows_checked"], 6);
  EXPECT_TRUE(intact.findings.empty());

  // Tampering needs the append-only trigger out of the way (a superuser).
  std::string third = Sql(url_, "SELECT min(id) + 2 FROM audit_events");
  Sql(url_, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update");
  Sql(url_, "UPDATE audit_events SET detail = 'nothing to see' WHERE id = " + third);
  Sql(url_, "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update");
  ops::OpReport broken;
  ASSERT_TRUE(ops::VerifyAuditLog(ctx, broken).ok());
  EXPECT_EQ(broken.data["intact"], false);
  EXPECT_EQ(broken.data["first_broken_id"], std::stoll(third));
  EXPECT_NE(broken.data["problem"].get<std::string>().find("modified"),
            std::string::npos);
  ASSERT_EQ(broken.findings.size(), 1u);
  EXPECT_EQ(broken.findings[0].code, "audit.chain_broken");
  EXPECT_TRUE(broken.has_errors());
}

}  // namespace
}  // namespace certctl
