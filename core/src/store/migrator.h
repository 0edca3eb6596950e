// Schema migrations: numbered SQL files compiled into the binaries.
//
// Migrate applies pending files in order, each in its own transaction, under a
// session advisory lock so concurrent migrators serialise, and records version,
// name, checksum and time in schema_migrations. An applied file whose checksum
// differs from the compiled-in one is a hard error naming the file.
#pragma once

#include <string>
#include <vector>

#include "certctl/store/database.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl {

struct Migration {
  int version = 0;
  std::string name;  // "0001_init.sql"
  std::string sql;
  std::string checksum;  // lowercase hex SHA-256 of sql
};

// The migrations compiled into this binary, ordered by version.
const std::vector<Migration>& EmbeddedMigrations();

// Builds a Migration from a file name ("NNNN_name.sql") and its content.
Result<Migration> MakeMigration(const std::string& file_name, const std::string& sql);

struct AppliedMigration {
  int version = 0;
  std::string name;
  std::string checksum;
  TimePoint applied_at;
};

struct SchemaState {
  int current_version = 0;  // highest applied; 0 for an empty database
  int latest_version = 0;   // highest known to this binary
  std::vector<AppliedMigration> applied;
  std::vector<Migration> pending;
};

// Reads schema_migrations and compares with `known`. Corruption when an applied
// checksum differs; FailedPrecondition when the database has a version this
// binary does not know (it is newer).
Result<SchemaState> InspectSchema(
    Database& db, const std::vector<Migration>& known = EmbeddedMigrations());

struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<Migration> applied;  // those applied by this run (or planned, dry run)
};

Result<MigrationReport> Migrate(
    Database& db, const std::vector<Migration>& known = EmbeddedMigrations(),
    bool dry_run = false);

// OK when the schema is exactly current; FailedPrecondition telling the
// operator to run `certctl-admin db migrate` when it is behind.
Status RequireCurrentSchema(Database& db);

}  // namespace certctl
