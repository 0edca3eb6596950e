#include "store/audit_repo.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "certctl/audit/chain.h"
#include "certctl/audit/chain_verifier.h"
#include "certctl/util/encoding.h"
#include "store/migrator.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

using testing::Sql;
using testing::TrySql;

audit::AuditKey Key(char fill = 'k') {
  auto key = audit::AuditKey::Derive(std::string(64, fill));
  EXPECT_TRUE(key.ok());
  return std::move(key).value();
}

AuditEvent Event(const std::string& action) {
  AuditEvent e;
  e.actor = "alice";
  e.host = "host-a";
  e.action = action;
  e.target = "iss-local";
  e.outcome = AuditOutcome::kSucceeded;
  e.command_line = "certctl-admin crl regenerate iss-local";
  e.parameters_json = R"({"issuer":"iss-local"})";
  e.duration_ms = 12;
  return e;
}

Result<AuditAppended> AppendTo(Database& db, const audit::AuditKey& key,
                               const AuditEvent& e,
                               std::optional<int64_t> anchored = std::nullopt) {
  AuditAppended out;
  Status s = db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(out, AuditRepo::Append(tx, key, e, anchored));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

audit::ChainReport VerifyWith(Database& db, const audit::AuditKey& key) {
  audit::ChainReport report;
  Status s = db.Run([&](Transaction& tx) -> Status {
    audit::ChainVerifier verifier(key, {});
    RETURN_IF_ERROR(
        AuditRepo::Scan(tx, [&](const AuditEvent& row) { return verifier.Add(row); }));
    report = verifier.Finish();
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return report;
}

class AuditRepoTest : public testing::DatabaseTest {
 protected:
  AuditEvent Append(const std::string& action) {
    auto r = AppendTo(db(), key_, Event(action));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->event : AuditEvent{};
  }
  audit::ChainReport Verify() { return VerifyWith(db(), key_); }
  audit::AuditKey key_ = Key();
};

TEST_F(AuditRepoTest, AppendLinksAndSignsEveryRow) {
  auto a = Append("crl.regenerate");
  auto b = Append("crl.regenerate");
  EXPECT_GT(b.id, a.id);
  EXPECT_EQ(a.seq, 1);
  EXPECT_EQ(b.seq, 2);
  EXPECT_TRUE(a.prev_hash.empty());
  EXPECT_EQ(b.prev_hash, a.hash);
  EXPECT_EQ(a.key_id, key_.id());
  EXPECT_EQ(a.chain_version, audit::kKeyedChain);
  EXPECT_EQ(b.hash, *audit::KeyedDigest(key_, b));  // an HMAC, not a plain digest
  EXPECT_NE(b.hash, *audit::KeyedDigest(Key('x'), b));
  // What the database holds is what was signed.
  auto report = Verify();
  EXPECT_TRUE(report.intact());
  EXPECT_EQ(report.rows, 2);
  EXPECT_EQ(report.rows_with_key, 2);
  EXPECT_EQ(Sql(url_, "SELECT key_id FROM audit_events WHERE seq = 2"), key_.id());
}

TEST_F(AuditRepoTest, SignsTheTextAsTheServerStoresIt) {
  AuditEvent e = Event("trust.reload");
  e.parameters_json = R"({"b":  1, "a": [1,2],"é": "ünïcode"})";  // jsonb reorders
  e.detail = std::string("tab\tand unit separator \x1f inside");
  e.duration_ms.reset();
  auto r = AppendTo(db(), key_, e);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->event.parameters_json, R"({"a": [1, 2], "b": 1, "é": "ünïcode"})");
  EXPECT_TRUE(Verify().intact());
}

TEST_F(AuditRepoTest, RejectsUpdateDeleteAndTruncate) {
  Append("x");
  for (const char* sql : {"UPDATE audit_events SET actor = 'mallory'",
                          "DELETE FROM audit_events", "TRUNCATE audit_events"}) {
    Status s = TrySql(url_, sql);
    EXPECT_FALSE(s.ok()) << sql;
    EXPECT_NE(s.message().find("append-only"), std::string::npos) << s.message();
  }
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM audit_events"), "1");
  EXPECT_EQ(Sql(url_, "SELECT actor FROM audit_events"), "alice");
}

TEST_F(AuditRepoTest, TheTriggerRefusesAnInsertThatDoesNotExtendTheHead) {
  auto head = Append("x");
  std::string columns =
      "INSERT INTO audit_events (id, actor, host, action, outcome, prev_hash, hash, "
      "chain_version, seq, key_id) VALUES ";
  std::string prev =
      "'\\x" + Sql(url_, "SELECT encode(hash, 'hex') FROM audit_events") + "'";
  for (const std::string& values :
       {"(nextval('audit_events_id_seq'), 'm', 'h', 'a', 'succeeded', " + prev +
            ", '\\x00', 2, 5, 'k')",  // skips positions
        std::string("(nextval('audit_events_id_seq'), 'm', 'h', 'a', 'succeeded', "
                    "'\\x00', '\\x00', 2, 2, 'k')"),  // does not link to the head
        "(" + std::to_string(head.id) + " - 1, 'm', 'h', 'a', 'succeeded', " + prev +
            ", '\\x00', 2, 2, 'k')",  // an id below the head's
        "(nextval('audit_events_id_seq'), 'm', 'h', 'a', 'succeeded', " + prev +
            ", '\\x00', 1, NULL, NULL)"}) {  // unkeyed
    Status s = TrySql(url_, columns + values);
    EXPECT_FALSE(s.ok()) << values;
    EXPECT_NE(s.message().find("must extend the chain head"), std::string::npos)
        << s.message();
  }
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM audit_events"), "1");
}

TEST_F(AuditRepoTest, RefusesToAppendUnderAnotherKey) {
  Append("x");
  auto other = AppendTo(db(), Key('o'), Event("y"));
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find(Key('o').id()), std::string::npos);
  EXPECT_NE(other.status().message().find(key_.id()), std::string::npos);
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM audit_events"), "1");
}

TEST_F(AuditRepoTest, ReportsTheAnchoredRowAsFoundUnderTheLock) {
  auto first = Append("x");
  auto r = AppendTo(db(), key_, Event("y"), first.id);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->anchored.has_value());
  EXPECT_EQ(r->anchored->seq, 1);
  EXPECT_EQ(r->anchored->hash, first.hash);
  auto missing = AppendTo(db(), key_, Event("z"), 424242);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->anchored.has_value());
}

// Replicas and the admin tool each have their own connections; the chain
// must stay one line.
TEST_F(AuditRepoTest, ConcurrentWritersOnSeparatePoolsFormOneChain) {
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      auto replica = Database::Open({.url = url_, .pool_size = 2});
      ASSERT_TRUE(replica.ok()) << replica.status().ToString();
      for (int i = 0; i < 25; ++i) {
        auto r = AppendTo(**replica, key_, Event("concurrent"));
        EXPECT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& w : writers) w.join();
  auto report = Verify();
  EXPECT_EQ(report.rows, 100);
  EXPECT_TRUE(report.intact()) << report.breaks.size() << " breaks";
  EXPECT_EQ(Sql(url_,
                "SELECT count(DISTINCT seq) || ' ' || min(seq) || ' ' || max(seq) "
                "FROM audit_events"),
            "100 1 100");
}

TEST_F(AuditRepoTest, ListFilters) {
  Append("crl.regenerate");
  Append("ocsp.reset_responder");
  Append("crl.regenerate");
  auto all = db().Query<std::vector<AuditEvent>>(
      [](Transaction& tx) { return AuditRepo::List(tx, {}); });
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  EXPECT_LT((*all)[0].id, (*all)[1].id);  // oldest first
  EXPECT_EQ((*all)[0].parameters_json, R"({"issuer": "iss-local"})");
  EXPECT_EQ((*all)[0].duration_ms, 12);
  auto crl = db().Query<std::vector<AuditEvent>>(
      [](Transaction& tx) { return AuditRepo::List(tx, {.action = "crl.regenerate"}); });
  EXPECT_EQ(crl->size(), 2u);
  auto future = db().Query<std::vector<AuditEvent>>([](Transaction& tx) {
    return AuditRepo::List(
        tx, {.since = std::chrono::system_clock::now() + std::chrono::hours(1)});
  });
  EXPECT_TRUE(future->empty());
}

// A database from before schema 3: its rows, hashed by the old trigger, are
// checked by certctl's own code and sealed by the first keyed row.
TEST(AuditRepoUpgradeTest, TheFirstKeyedRowSealsTheUnkeyedHistory) {
  auto& cluster = testing::TestCluster::Get();
  std::string url = cluster.Url(cluster.CreateEmptyDatabase());
  auto db = Database::Open({.url = url, .pool_size = 2});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  const auto& all = EmbeddedMigrations();
  ASSERT_GE(all.size(), 3u);
  ASSERT_EQ(all[2].name, "0003_audit_keyed_chain.sql");
  ASSERT_TRUE(Migrate(**db, {all.begin(), all.begin() + 2}).ok());
  Sql(url,
      "INSERT INTO audit_events (actor, host, action, target, outcome, parameters, "
      "detail, duration_ms, prev_hash, hash) VALUES "
      "('bob', 'h', 'db.migrate', 't', 'succeeded', '{\"v\": [1, {\"x\": null}]}', "
      "'with \x1f separator', 5, '\\x', '\\x')");
  Sql(url,
      "INSERT INTO audit_events (actor, host, action, outcome, prev_hash, hash) VALUES "
      "('carol', 'h', 'crl.regenerate', 'started', '\\x', '\\x')");
  ASSERT_TRUE(Migrate(**db).ok());
  EXPECT_EQ(Sql(url, "SELECT count(*) FROM pg_proc WHERE proname = 'audit_event_digest'"),
            "0");

  audit::AuditKey key = Key();
  auto first = AppendTo(**db, key, Event("crl.regenerate"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->event.seq, 3);
  EXPECT_EQ(first->event.prev_hash,
            *HexDecode(Sql(url,
                           "SELECT encode(hash, 'hex') FROM audit_events WHERE "
                           "actor = 'carol'")));
  auto report = VerifyWith(**db, key);
  EXPECT_TRUE(report.intact()) << (report.breaks.empty() ? "" : report.breaks[0].message);
  EXPECT_EQ(report.unkeyed_rows, 2);
  EXPECT_EQ(report.keyed_rows, 1);

  // Rewriting the old rows with their unkeyed hashes recomputed now shows.
  Sql(url,
      "ALTER TABLE audit_events DISABLE TRIGGER USER; "
      "UPDATE audit_events SET actor = 'mallory', hash = sha256(prev_hash || "
      "convert_to(concat_ws(E'\\x1f', id::text, to_char(occurred_at AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'mallory', host, action, target, outcome, "
      "command_line, parameters::text, detail, coalesce(duration_ms::text, ''), "
      "correlation_id), 'UTF8')) WHERE actor = 'carol'; "
      "ALTER TABLE audit_events ENABLE TRIGGER USER");
  auto sealed = VerifyWith(**db, key);
  ASSERT_EQ(sealed.breaks.size(), 1u);
  EXPECT_EQ(sealed.breaks[0].kind, "sealed");
  EXPECT_EQ(sealed.breaks[0].id, first->event.id);
}

}  // namespace
}  // namespace certctl
