// Test harness: one throwaway PostgreSQL cluster per test binary, and a fresh
// database per test cloned from a migrated template.
//
// The cluster is started on first use (initdb into a temporary directory,
// unix socket only, fsync off, pg_stat_statements loaded) and stopped when the binary
// exits. Run as root, the server runs as the `postgres` account.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "certctl/store/database.h"
#include "store/local_cluster.h"

namespace certctl::testing {

class TestCluster {
 public:
  // The binary's cluster, started on first call. Aborts the test run with the
  // reason when PostgreSQL cannot be started.
  static TestCluster& Get();

  // A new empty database (no schema).
  std::string CreateEmptyDatabase();
  // A new database with the current schema (cloned from the template).
  std::string CreateMigratedDatabase();
  std::string Url(const std::string& database) const {
    return cluster_->ConnectionString(database);
  }

  LocalCluster& cluster() { return *cluster_; }
  // Stops and starts the server (for tests of outages).
  // Fast shutdown: committed work survives (the cluster runs with
  // synchronous_commit=off, which an immediate stop could lose).
  Status Stop() { return cluster_->Stop(false); }
  Status Start() { return cluster_->Start(); }

  ~TestCluster();

 private:
  TestCluster();
  std::string NextName();
  std::string root_;
  std::unique_ptr<LocalCluster> cluster_;
  int counter_ = 0;
};

// The audit key every test configures (CERTCTL_AUDIT_KEY): certctl writes no
// audit event, and so changes nothing, without one.
inline constexpr char kTestAuditKey[] =
    "7e5f0c1d2b3a495867768594a3b2c1d0e0f1a2b3c4d5e6f708192a3b4c5d6e7f";

// A temporary directory removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Fixture: every test gets its own migrated database and an open pool.
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  Database& db() { return *db_; }
  std::string db_name_;
  std::string url_;
  std::unique_ptr<Database> db_;
};

// Runs one SQL statement outside the code under test (setup and inspection),
// returning the first column of the first row as text ("" when none).
std::string Sql(const std::string& url, const std::string& statement);
// As Sql, but returns the error instead of throwing (for statements expected to fail).
Status TrySql(const std::string& url, const std::string& statement);

}  // namespace certctl::testing
