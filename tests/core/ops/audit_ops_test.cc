#include "certctl/ops/audit_ops.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "certctl/audit/anchor.h"
#include "certctl/audit/chain.h"
#include "certctl/ops/audit_json.h"
#include "certctl/ops/op_json.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/time_format.h"
#include "store/audit_repo.h"
#include "support/ops_fixture.h"

namespace certctl {
namespace {

using testing::Sql;

using std::chrono::hours;

// Re-links every row from position `seq` on with the unkeyed digest of
// schema 1, as someone without the key would (audit_event_digest() inlined,
// since schema 3 dropped the function).
std::string RehashFrom(int seq) {
  return R"sql(DO $$ DECLARE r record; prev bytea; BEGIN
    SELECT hash INTO prev FROM audit_events WHERE seq < )sql" +
         std::to_string(seq) + R"sql( ORDER BY seq DESC LIMIT 1;
    FOR r IN SELECT * FROM audit_events WHERE seq >= )sql" +
         std::to_string(seq) + R"sql( ORDER BY id LOOP
      UPDATE audit_events SET prev_hash = coalesce(prev, '\x'),
        hash = sha256(coalesce(prev, '\x') || convert_to(concat_ws(E'\x1f', r.id::text,
          to_char(r.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
          r.actor, r.host, r.action, r.target, r.outcome, r.command_line,
          r.parameters::text, r.detail, coalesce(r.duration_ms::text, ''),
          r.correlation_id), 'UTF8'))
        WHERE id = r.id RETURNING hash INTO prev;
    END LOOP; END $$)sql";
}

// One verification: the report, and the typed result or its error.
struct Verified : ops::OpReport {
  Result<ops::AuditLogVerified> result = Status::Internal("not run");
  const ops::AuditLogVerified* operator->() const { return &result.value(); }
};

// "kind@id" of each break ("-" for none), xN for a count, (ack) when
// acknowledged.
std::string Kinds(const Verified& v) {
  std::string out;
  for (const auto& b : v->breaks) {
    out += (out.empty() ? "" : " ") + b.kind + "@" + (b.id ? std::to_string(b.id) : "-");
    if (b.count != 1) out += "x" + std::to_string(b.count);
    if (b.acknowledged_by) out += "(ack)";
  }
  return out;
}

class AuditOpsTest : public testing::OpsTest {
 protected:
  void Event(const std::string& actor, const std::string& action) {
    auto ctx = Context();
    ctx.actor.name = actor;
    ASSERT_TRUE(
        ops::WriteAuditEvent(ctx, action, "iss-local", "done", true, {{"n", 1}}).ok());
  }
  // `n` more events; with the registration's, the log then has n + 1 rows
  // (ids and positions from 1, as the template database starts them).
  void Events(int n) {
    for (int i = 0; i < n; ++i) Event("alice", "crl.regenerate");
  }
  // SQL run by someone who can write to the database: triggers disabled.
  void Tamper(const std::string& sql) {
    Sql(url_, "ALTER TABLE audit_events DISABLE TRIGGER USER; " + sql +
                  "; ALTER TABLE audit_events ENABLE TRIGGER USER");
  }
  Verified Verify(const std::vector<std::string>& anchors = {}) {
    auto ctx = Context();
    Verified v;
    v.result = ops::VerifyAuditLog(ctx, v, {anchors});
    Status s = v.result.status();
    EXPECT_TRUE(s.ok() || s.code() == StatusCode::kConfiguration) << s.ToString();
    return v;
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
  auto listed = ops::ListAuditEvents(ctx, {}, all);
  ASSERT_TRUE(listed.ok());
  // The fixture registered iss-local first (one event), then ours.
  ASSERT_EQ(listed->events.size(), 4u);
  EXPECT_FALSE(listed->limited);
  EXPECT_EQ(listed->events[3].actor, "alice");
  // The JSON has the parameters as an object, not text.
  EXPECT_EQ(ops::ToJson(*listed)["events"][3]["parameters"]["n"], 1);

  ops::OpReport by_actor;
  auto alice = ops::ListAuditEvents(ctx, {std::nullopt, "", "alice"}, by_actor);
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice->events.size(), 2u);
  ops::OpReport both;
  auto alice_truncate =
      ops::ListAuditEvents(ctx, {std::nullopt, "cache.truncate", "alice"}, both);
  ASSERT_TRUE(alice_truncate.ok());
  EXPECT_EQ(alice_truncate->events.size(), 1u);
  ops::OpReport future;
  auto none = ops::ListAuditEvents(ctx, {ctx.clock.Now() + hours(1), "", ""}, future);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->events.size(), 0u);

  ops::OpReport limited;
  auto newest = ops::ListAuditEvents(ctx, {std::nullopt, "", "", 2}, limited);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->events.size(), 2u);
  EXPECT_TRUE(newest->limited);
  EXPECT_EQ(newest->events[1].action, "cache.truncate");  // the newest two
  EXPECT_EQ(newest->events[1].actor, "alice");

  ops::OpReport bad;
  EXPECT_EQ(ops::ListAuditEvents(ctx, {std::nullopt, "", "", 0}, bad).status().code(),
            StatusCode::kInvalidArgument);
}

// ---- audit verify: the attacks of issue 8, each by someone who can write to
// the database (triggers disabled) but does not hold the audit key.

TEST_F(AuditOpsTest, AnIntactLogVerifiesAgainstTheConfiguredAnchor) {
  Events(5);
  auto report = Verify();
  EXPECT_TRUE(report->intact);
  EXPECT_EQ(report->rows_checked, 6);
  EXPECT_EQ(report->keyed_rows, 6);
  EXPECT_EQ(report->unkeyed_rows, 0);
  ASSERT_TRUE(report->head.has_value());
  EXPECT_EQ(report->head->seq, 6);
  ASSERT_EQ(report->anchors.size(), 1u);
  EXPECT_EQ(report->anchors[0].source, config_.audit_anchor_file);
  EXPECT_EQ(report->anchors[0].head.seq, 6);
  EXPECT_TRUE(report.findings.empty()) << ops::ReportJson(report, report.result).dump();
}

TEST_F(AuditOpsTest, DeletingTheLastRowsIsDetectedThroughTheAnchor) {
  Events(5);
  Tamper("DELETE FROM audit_events WHERE seq > 4");
  auto report = Verify();
  EXPECT_FALSE(report->intact);
  EXPECT_EQ(Kinds(report), "truncated@-x2");
  EXPECT_EQ(report.findings.at(0).code, "audit.chain_broken");
  EXPECT_TRUE(report.has_errors());
  // Stated plainly: without an anchor the shorter log is valid in itself.
  std::filesystem::remove(config_.audit_anchor_file);
  auto unanchored = Verify();
  EXPECT_TRUE(unanchored->intact);
  ASSERT_EQ(unanchored.findings.size(), 1u);
  EXPECT_EQ(unanchored.findings[0].code, "audit.no_anchor");
}

TEST_F(AuditOpsTest, AnEditWithEveryLaterHashRecomputedIsDetected) {
  Events(5);
  Tamper("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3");
  Tamper(RehashFrom(3));
  auto report = Verify();
  EXPECT_EQ(Kinds(report), "modified@3 modified@4 modified@5 modified@6 anchor@6");
  EXPECT_EQ(report->first_broken_id, 3);
}

TEST_F(AuditOpsTest, ReplacingTheDigestFunctionChangesNothing) {
  Events(5);
  // Schema 3 dropped it; nothing certctl runs calls a function of the database.
  EXPECT_EQ(
      Sql(url_, "SELECT count(*) FROM pg_proc WHERE proname = 'audit_event_digest'"),
      "0");
  Sql(url_,
      "CREATE FUNCTION audit_event_digest(prev bytea, e audit_events) RETURNS bytea "
      "LANGUAGE sql STABLE AS $$ SELECT e.hash $$");
  Tamper("UPDATE audit_events SET detail = 'nothing to see' WHERE seq = 2");
  EXPECT_EQ(Kinds(Verify()), "modified@2");
}

TEST_F(AuditOpsTest, InsertedRowsAreDetected) {
  Events(2);
  // Through the front door, meeting every rule of the trigger but the key.
  Sql(url_,
      "INSERT INTO audit_events (id, actor, host, action, target, outcome, prev_hash, "
      "hash, chain_version, seq, key_id) SELECT nextval('audit_events_id_seq'), "
      "'mallory', 'h', 'certificate.revoke', 'iss-local/01', 'succeeded', hash, "
      "sha256(hash), 2, seq + 1, key_id FROM audit_events ORDER BY id DESC LIMIT 1");
  EXPECT_EQ(Kinds(Verify()), "modified@4");
  // Between two rows that link to each other, into the id a rolled-back
  // append left unused.
  Sql(url_, "SELECT nextval('audit_events_id_seq')");
  Events(2);
  Tamper(
      "INSERT INTO audit_events (id, actor, host, action, outcome, prev_hash, hash, "
      "chain_version, seq, key_id) SELECT 5, 'mallory', 'h', 'ca.rotate', 'succeeded', "
      "prev_hash, hash, 2, 1000, key_id FROM audit_events WHERE id = 6");
  auto report = Verify();
  EXPECT_EQ(Kinds(report), "modified@4 inserted@5");
  EXPECT_NE(report->breaks.at(1).message.find("inserted"), std::string::npos);
}

TEST_F(AuditOpsTest, ARowDeletedInTheMiddleIsDetected) {
  Events(5);
  Tamper("DELETE FROM audit_events WHERE seq = 3");
  EXPECT_EQ(Kinds(Verify()), "missing@4");
  // Re-linking what follows without the key only adds breaks.
  Tamper(RehashFrom(4));
  auto report = Verify();
  EXPECT_FALSE(report->intact);
  EXPECT_EQ(Kinds(report), "modified@4 modified@5 modified@6 anchor@6");
}

TEST_F(AuditOpsTest, EveryBreakIsReportedNotOnlyTheFirst) {
  Events(8);
  Tamper("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2");
  Tamper("DELETE FROM audit_events WHERE seq IN (5, 6)");
  Tamper("DELETE FROM audit_events WHERE seq = 9");
  auto report = Verify();
  EXPECT_EQ(Kinds(report), "modified@2 missing@7x2 truncated@-");
  EXPECT_EQ(report.findings.size(), 3u);
  EXPECT_EQ(report->first_broken_id, 2);
}

// ---- a missing or wrong key is said plainly, never as tampering

TEST_F(AuditOpsTest, AMissingKeyIsAConfigurationErrorAndChangesNothing) {
  Events(2);
  config_.audit_key = SecretString();
  auto report = Verify();
  EXPECT_EQ(report.result.status().code(), StatusCode::kConfiguration);
  EXPECT_NE(report.result.status().message().find("no audit key"), std::string::npos);
  EXPECT_TRUE(report.findings.empty());
  // Nothing that would write an event runs without it.
  int64_t rows = Count("audit_events"), certificates = Count("certificates");
  auto ctx = Context();
  EXPECT_EQ(ops::WriteAuditEvent(ctx, "x", "y", "", true).code(),
            StatusCode::kConfiguration);
  ops::IssueParams issue;
  issue.generate_key = KeyAlgorithm::kEcdsaP256;
  issue.common_name = "leaf.example";
  EXPECT_EQ(ops::IssueCertificate(ctx, issue).status().code(),
            StatusCode::kConfiguration);
  EXPECT_EQ(Count("audit_events"), rows);
  EXPECT_EQ(Count("certificates"), certificates);
}

TEST_F(AuditOpsTest, AWrongKeyIsAConfigurationErrorNotTampering) {
  Events(2);
  config_.audit_key = SecretString(std::string(64, 'w'));
  auto report = Verify();
  const Status& s = report.result.status();
  EXPECT_EQ(s.code(), StatusCode::kConfiguration);
  EXPECT_NE(s.message().find("not the key the audit log was written with"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("says nothing about tampering"), std::string::npos);
  auto ctx = Context();
  EXPECT_EQ(ops::CheckAuditSetup(ctx).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ops::WriteAuditEvent(ctx, "x", "y", "", true).code(),
            StatusCode::kFailedPrecondition);
}

// ---- audit anchor: acknowledging a break without rewriting history

TEST_F(AuditOpsTest, AnAppendAfterTruncationLeavesTheAnchorAsEvidence) {
  Events(4);
  std::string anchor = *ReadFile(config_.audit_anchor_file);
  Tamper("DELETE FROM audit_events WHERE seq = 5");
  Events(1);  // the next writer links to the shorter chain...
  EXPECT_EQ(*ReadFile(config_.audit_anchor_file), anchor);  // ...but the anchor stays
  EXPECT_EQ(Kinds(Verify()), "anchor@5");
}

TEST_F(AuditOpsTest, AcknowledgingRecordsASignedEventAndTheLogVerifiesAgain) {
  Events(5);
  Tamper("DELETE FROM audit_events WHERE seq > 4");
  Tamper("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2");
  auto ctx = Context();
  ops::OpReport missing_reason;
  EXPECT_EQ(ops::AcknowledgeAuditBreaks(ctx, {"", {}}, missing_reason).status().code(),
            StatusCode::kInvalidArgument);

  // Another host's anchor, naming the same deleted row.
  std::string host_b = *dir_ / "host-b.anchor";
  ASSERT_TRUE(WriteFileAtomic(host_b, *ReadFile(config_.audit_anchor_file)).ok());
  auto dry_ctx = Context(/*dry_run=*/true);
  int64_t rows = Count("audit_events");
  std::string anchor = *ReadFile(config_.audit_anchor_file);
  ops::OpReport plan;
  ASSERT_TRUE(ops::AcknowledgeAuditBreaks(dry_ctx, {"incident 7", {}}, plan).ok());
  EXPECT_EQ(plan.plan.size(), 2u);
  EXPECT_EQ(Count("audit_events"), rows);
  EXPECT_EQ(*ReadFile(config_.audit_anchor_file), anchor);

  ops::OpReport done;
  auto acknowledged =
      ops::AcknowledgeAuditBreaks(ctx, {"restored, incident 7", {}}, done);
  ASSERT_TRUE(acknowledged.ok()) << acknowledged.status().ToString();
  EXPECT_EQ(Count("audit_events"), rows + 1);
  ASSERT_TRUE(acknowledged->event_id.has_value());
  int64_t event = *acknowledged->event_id;
  EXPECT_EQ(Sql(url_,
                "SELECT action || ' ' || detail || ' ' || "
                "jsonb_array_length(parameters->'acknowledged') FROM audit_events "
                "WHERE id = " +
                    std::to_string(event)),
            "audit.anchor restored, incident 7 2");
  EXPECT_EQ(audit::ReadAnchorFile(config_.audit_anchor_file)->id, event);

  auto report = Verify();
  EXPECT_TRUE(report->intact) << ops::ReportJson(report, report.result).dump();
  EXPECT_EQ(report->acknowledged, 1);
  EXPECT_EQ(Kinds(report), "modified@2(ack)");  // the anchor names the event now
  EXPECT_FALSE(report.has_errors());
  EXPECT_EQ(report.findings.at(0).code, "audit.acknowledged_break");
  auto with_b = Verify({config_.audit_anchor_file, host_b});
  EXPECT_EQ(Kinds(with_b), "modified@2(ack) truncated@-(ack)");
  EXPECT_TRUE(with_b->intact);
  // Nothing was rewritten: the edited row is still the edited row.
  EXPECT_EQ(Sql(url_, "SELECT actor FROM audit_events WHERE seq = 2"), "mallory");
  // Appends go on and move the anchor; a new break is an error again.
  Events(1);
  EXPECT_GT(audit::ReadAnchorFile(config_.audit_anchor_file)->id, event);
  Tamper("UPDATE audit_events SET target = 'x' WHERE seq = 3");
  EXPECT_EQ(Kinds(Verify()), "modified@2(ack) modified@3");
  // Nothing left to acknowledge writes nothing.
  ops::OpReport again;
  ASSERT_TRUE(ops::AcknowledgeAuditBreaks(ctx, {"row 3 reviewed", {}}, again).ok());
  ops::OpReport nothing;
  rows = Count("audit_events");
  auto unchanged = ops::AcknowledgeAuditBreaks(ctx, {"again", {}}, nothing);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(Count("audit_events"), rows);
  EXPECT_FALSE(unchanged->event_id.has_value());
}

// ---- what is NOT detected, stated as a test: someone with the audit key and
// write access to both the database and the anchor file.
TEST_F(AuditOpsTest, AnAttackerWithTheKeyAndTheAnchorFileIsNotDetected) {
  Events(5);
  Tamper("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3");
  auto key = audit::AuditKey::Derive(testing::kTestAuditKey);
  ASSERT_TRUE(key.ok());
  std::vector<AuditEvent> rows;
  ASSERT_TRUE(db().Run([&](Transaction& tx) {
                    return AuditRepo::Scan(tx, [&](const AuditEvent& r) {
                      rows.push_back(r);
                      return Status::Ok();
                    });
                  })
                  .ok());
  for (size_t i = 2; i < rows.size(); ++i) {
    rows[i].prev_hash = rows[i - 1].hash;
    rows[i].hash = *audit::KeyedDigest(*key, rows[i]);
    Tamper("UPDATE audit_events SET prev_hash = '\\x" + HexEncode(rows[i].prev_hash) +
           "', hash = '\\x" + HexEncode(rows[i].hash) +
           "' WHERE id = " + std::to_string(rows[i].id));
  }
  const AuditEvent& head = rows.back();
  ASSERT_TRUE(audit::ReplaceAnchorFile(config_.audit_anchor_file,
                                       {*head.seq, head.id, head.hash, {}})
                  .ok());
  EXPECT_TRUE(Verify()->intact);
}

}  // namespace
}  // namespace certctl
