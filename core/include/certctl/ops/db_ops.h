// Database procedures: schema migrations and schema status.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/ops/op.h"

namespace certctl::ops {

// A schema migration compiled into this binary (and maybe applied).
struct MigrationInfo {
  int version = 0;
  std::string name;                     // "0001_init.sql"
  std::string checksum;                 // lowercase hex SHA-256 of its SQL
  std::optional<TimePoint> applied_at;  // set in DescribeSchema's `applied`
};

struct SchemaVersion {
  int version = 0;
};

struct DatabaseMigrated {
  int from_version = 0;
  int to_version = 0;
  std::vector<MigrationInfo> applied;  // by this run (a dry run: would be)
  std::optional<SchemaVersion> before;
  std::optional<SchemaVersion> after;
};

// Applies pending migrations (see store/migrator.h). Audited once the audit
// table exists (a fresh database has none before its first migration).
Result<DatabaseMigrated> MigrateDatabase(OpContext& ctx, OpReport& report);

struct SchemaStatus {
  // False when the applied migrations could not be compared with this
  // binary's (a finding "schema.mismatch" says why); the rest is then empty.
  bool known = true;
  int current_version = 0;  // highest applied; 0 for an empty database
  int latest_version = 0;   // highest compiled into this binary
  std::vector<MigrationInfo> applied;
  std::vector<MigrationInfo> pending;
};

// An "error" finding "schema.behind" when migrations are pending, and
// "schema.mismatch" when an applied file changed. Read-only.
Result<SchemaStatus> DescribeSchema(OpContext& ctx, OpReport& report);

// What both programs check after opening the database: OK when the schema is
// exactly the one this binary knows; FailedPrecondition telling the operator
// to run `certctl-admin db migrate` when it is behind (Corruption or
// FailedPrecondition when it was changed or is newer).
Status RequireCurrentSchema(Database& db);

}  // namespace certctl::ops
