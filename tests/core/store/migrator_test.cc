#include "certctl/store/migrator.h"

#include <gtest/gtest.h>

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
