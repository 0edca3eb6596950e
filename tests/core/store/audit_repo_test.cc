#include "certctl/store/audit_repo.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/pg_harness.h"

namespace certctl {
namespace {

using testing::Sql;
using testing::TrySql;

class AuditRepoTest : public testing::DatabaseTest {
 protected:
  AuditEvent Append(const std::string& action,
                    AuditOutcome outcome = AuditOutcome::kSucceeded) {
    AuditEvent e;
    e.actor = "alice";
    e.host = "host-a";
    e.action = action;
    e.target = "iss-local";
    e.outcome = outcome;
    e.command_line = "certctl-admin crl regenerate iss-local";
    e.parameters_json = R"({"issuer":"iss-local"})";
    e.duration_ms = 12;
    AuditEvent out;
    Status s = db().Run([&](Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(out, AuditRepo::Append(tx, e));
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  AuditChainReport Verify() {
    auto r = db().Query<AuditChainReport>(
        [](Transaction& tx) { return AuditRepo::VerifyChain(tx); });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AuditChainReport{};
  }
};

TEST_F(AuditRepoTest, AppendChainsRows) {
  auto a = Append("crl.regenerate", AuditOutcome::kStarted);
  auto b = Append("crl.regenerate");
  EXPECT_GT(b.id, a.id);
  EXPECT_TRUE(a.prev_hash.empty());
  EXPECT_EQ(a.hash.size(), 32u);
  EXPECT_EQ(b.prev_hash, a.hash);
  auto report = Verify();
  EXPECT_EQ(report.rows_checked, 2);
  EXPECT_FALSE(report.first_broken_id.has_value());
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

TEST_F(AuditRepoTest, VerifyFindsTheFirstTamperedRow) {
  Append("a");
  auto second = Append("b");
  Append("c");
  // A superuser who disables the triggers can still edit; the chain shows it.
  Sql(url_,
      "ALTER TABLE audit_events DISABLE TRIGGER USER; "
      "UPDATE audit_events SET actor = 'mallory' WHERE id = " +
          std::to_string(second.id) + "; ALTER TABLE audit_events ENABLE TRIGGER USER");
  auto report = Verify();
  ASSERT_TRUE(report.first_broken_id.has_value());
  EXPECT_EQ(*report.first_broken_id, second.id);
  EXPECT_NE(report.problem.find("modified"), std::string::npos);
}

TEST_F(AuditRepoTest, VerifyFindsARemovedRow) {
  Append("a");
  auto second = Append("b");
  auto third = Append("c");
  Sql(url_,
      "ALTER TABLE audit_events DISABLE TRIGGER USER; "
      "DELETE FROM audit_events WHERE id = " +
          std::to_string(second.id) + "; ALTER TABLE audit_events ENABLE TRIGGER USER");
  auto report = Verify();
  ASSERT_TRUE(report.first_broken_id.has_value());
  EXPECT_EQ(*report.first_broken_id, third.id);
}

TEST_F(AuditRepoTest, ConcurrentWritersFormOneChain) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) Append("concurrent");
    });
  }
  for (auto& t : threads) t.join();
  auto report = Verify();
  EXPECT_EQ(report.rows_checked, 40);
  EXPECT_FALSE(report.first_broken_id.has_value()) << report.problem;
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

}  // namespace
}  // namespace certctl
