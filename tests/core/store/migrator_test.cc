#include "store/migrator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "support/pg_harness.h"

namespace certctl {
namespace {

using testing::Sql;
using testing::TestCluster;

class MigratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = TestCluster::Get().CreateEmptyDatabase();
    url_ = TestCluster::Get().Url(name_);
    db_ = std::move(Database::Open({.url = url_, .pool_size = 4}).value());
  }
  std::string name_, url_;
  std::unique_ptr<Database> db_;
};

TEST_F(MigratorTest, FreshApplyCreatesSchemaAndRecordsEachFile) {
  ASSERT_FALSE(EmbeddedMigrations().empty());
  EXPECT_EQ(RequireCurrentSchema(*db_).code(), StatusCode::kFailedPrecondition);
  auto report = Migrate(*db_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->from_version, 0);
  EXPECT_EQ(report->to_version, EmbeddedMigrations().back().version);
  EXPECT_EQ(report->applied.size(), EmbeddedMigrations().size());
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM schema_migrations"),
            std::to_string(EmbeddedMigrations().size()));
  EXPECT_EQ(Sql(url_, "SELECT checksum FROM schema_migrations WHERE version = 1"),
            EmbeddedMigrations()[0].checksum);
  EXPECT_EQ(Sql(url_, "SELECT to_regclass('certificate_revocations') IS NOT NULL"), "t");
  EXPECT_TRUE(RequireCurrentSchema(*db_).ok());
}

TEST_F(MigratorTest, ReapplyIsANoOp) {
  ASSERT_TRUE(Migrate(*db_).ok());
  std::string applied_at =
      Sql(url_, "SELECT applied_at::text FROM schema_migrations WHERE version = 1");
  auto again = Migrate(*db_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->applied.empty());
  EXPECT_EQ(again->from_version, again->to_version);
  EXPECT_EQ(Sql(url_, "SELECT applied_at::text FROM schema_migrations WHERE version = 1"),
            applied_at);
}

TEST_F(MigratorTest, ChangedChecksumIsRefusedNamingTheFile) {
  ASSERT_TRUE(Migrate(*db_).ok());
  std::vector<Migration> changed = EmbeddedMigrations();
  changed[0].sql += "\n-- edited after release\n";
  changed[0].checksum = MakeMigration(changed[0].name, changed[0].sql)->checksum;
  auto r = Migrate(*db_, changed);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find(changed[0].name), std::string::npos);
  EXPECT_FALSE(InspectSchema(*db_, changed).ok());
}

TEST_F(MigratorTest, PendingMigrationIsAppliedInOrderAndBehindIsReported) {
  ASSERT_TRUE(Migrate(*db_).ok());
  std::vector<Migration> more = EmbeddedMigrations();
  int next = more.back().version + 1;
  char name[32];
  std::snprintf(name, sizeof name, "%04d_extra.sql", next);
  more.push_back(*MakeMigration(name, "CREATE TABLE extra_table (id int);"));
  auto state = InspectSchema(*db_, more);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->pending.size(), 1u);
  auto dry = Migrate(*db_, more, /*dry_run=*/true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->applied.size(), 1u);
  EXPECT_EQ(Sql(url_, "SELECT to_regclass('extra_table') IS NULL"), "t");
  ASSERT_TRUE(Migrate(*db_, more).ok());
  EXPECT_EQ(Sql(url_, "SELECT to_regclass('extra_table') IS NOT NULL"), "t");
}

TEST_F(MigratorTest, FailingMigrationRollsBackAndNamesTheFile) {
  ASSERT_TRUE(Migrate(*db_).ok());
  std::vector<Migration> more = EmbeddedMigrations();
  char name[32];
  std::snprintf(name, sizeof name, "%04d_broken.sql", more.back().version + 1);
  more.push_back(
      *MakeMigration(name, "CREATE TABLE half (id int); SELECT no_such_function();"));
  auto r = Migrate(*db_, more);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(name), std::string::npos);
  EXPECT_EQ(Sql(url_, "SELECT to_regclass('half') IS NULL"), "t");
}

TEST_F(MigratorTest, DatabaseNewerThanBinaryIsRefused) {
  ASSERT_TRUE(Migrate(*db_).ok());
  Sql(url_,
      "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, "
      "'9999_future.sql', 'x')");
  auto state = InspectSchema(*db_);
  ASSERT_FALSE(state.ok());
  EXPECT_NE(state.status().message().find("newer"), std::string::npos);
}

// NNNN_revocation_reasons.sql on a database that already holds revocations
// with reasons a complete CRL must not carry (certctl accepted them before).
// Nothing is un-revoked: removeFromCRL (8) and aACompromise (10) become
// unspecified (0), certificateHold (6) stays; the cached CRLs and OCSP answers
// that carried the old reasons are dropped and the issuer's revocation epoch
// moves, so every replica signs afresh from the new rows.
TEST_F(MigratorTest, RevocationReasonsMigrationNeverUnrevokes) {
  const auto& all = EmbeddedMigrations();
  auto reasons = std::find_if(all.begin(), all.end(), [](const Migration& m) {
    return m.name.ends_with("_revocation_reasons.sql");
  });
  ASSERT_NE(reasons, all.end());
  std::vector<Migration> before(all.begin(), reasons);
  ASSERT_TRUE(Migrate(*db_, before).ok());
  Sql(url_, R"sql(
    INSERT INTO issuers (id, display_name) VALUES ('iss-a', 'A'), ('iss-b', 'B');
    INSERT INTO ca_generations (issuer_id, generation, state, cert_pem, cert_sha256,
                                key_path, subject, not_before, not_after)
      SELECT i, 1, 'active', 'pem', repeat(h, 64), '/k', 'CN=' || i, now(),
             now() + interval '1 year'
      FROM (VALUES ('iss-a', 'a'), ('iss-b', 'b')) v (i, h);
    INSERT INTO certificates (issuer_id, serial, generation, subject, not_before,
                              not_after, cert_der, issued_by)
      SELECT i, s, 1, 'CN=x', now(), now() + interval '1 day', '\x00', 't'
      FROM (VALUES ('iss-a', 'a1'), ('iss-a', 'a2'), ('iss-a', 'a3'), ('iss-a', 'a4'),
                   ('iss-a', 'a5'), ('iss-b', 'b1')) v (i, s);
    INSERT INTO certificate_revocations (issuer_id, serial, generation, reason, revoked_by)
      VALUES ('iss-a', 'a1', 1, 8, 't'), ('iss-a', 'a2', 1, 10, 't'),
             ('iss-a', 'a3', 1, 6, 't'), ('iss-a', 'a4', 1, 1, 't'),
             ('iss-b', 'b1', 1, 1, 't');
    INSERT INTO crl_cache (issuer_id, generation, crl_der, crl_number, this_update,
                           next_update)
      SELECT i, 1, '\x00', 7, now(), now() + interval '1 day'
      FROM (VALUES ('iss-a'), ('iss-b')) v (i);
    INSERT INTO ocsp_response_cache (issuer_id, serial, generation, cert_status,
                                     response_der, this_update, next_update,
                                     responder_serial, revocation_epoch, cert_id_hash)
      SELECT i, s, 1, 1, '\x00', now(), now() + interval '1 day', 'r', 0, 'sha1'
      FROM (VALUES ('iss-a', 'a1'), ('iss-a', 'a2'), ('iss-a', 'a4'), ('iss-b', 'b1')) v (i, s);
  )sql");
  auto applied = Migrate(*db_);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();

  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(serial || '=' || reason, ',' ORDER BY serial) "
                "FROM certificate_revocations"),
            "a1=0,a2=0,a3=6,a4=1,b1=1");
  EXPECT_EQ(Sql(url_, "SELECT string_agg(issuer_id, ',') FROM crl_cache"), "iss-b");
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(serial, ',' ORDER BY serial) "
                "FROM ocsp_response_cache"),
            "a4,b1");
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(id || '=' || revocation_epoch, ',' ORDER BY id) "
                "FROM issuers"),
            "iss-a=1,iss-b=0");
  // From now on the database refuses them too.
  for (const char* reason : {"8", "10", "7", "11"}) {
    Status s = testing::TrySql(
        url_, std::string("UPDATE certificate_revocations SET reason = ") + reason +
                  " WHERE serial = 'a4'");
    EXPECT_FALSE(s.ok()) << reason;
  }
  EXPECT_EQ(Sql(url_, "SELECT reason FROM certificate_revocations WHERE serial = 'a4'"),
            "1");
}

TEST_F(MigratorTest, ConcurrentMigratorsSerialise) {
  constexpr int kRunners = 4;
  std::vector<Result<MigrationReport>> results(kRunners, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kRunners; ++i) {
    threads.emplace_back([&, i] {
      auto db = Database::Open({.url = url_, .pool_size = 1});
      if (!db.ok()) {
        results[i] = db.status();
        return;
      }
      results[i] = Migrate(**db);
    });
  }
  for (auto& t : threads) t.join();
  size_t total_applied = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    total_applied += r->applied.size();
  }
  // Exactly one runner applied each file; the others found nothing to do.
  EXPECT_EQ(total_applied, EmbeddedMigrations().size());
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM schema_migrations"),
            std::to_string(EmbeddedMigrations().size()));
}

}  // namespace
}  // namespace certctl
