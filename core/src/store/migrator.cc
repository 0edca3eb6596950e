#include "store/migrator.h"

#include <algorithm>
#include <charconv>

#include "certctl/util/encoding.h"
#include "store/embedded_migrations.h"
#include "store/pg.h"
#include "store/session.h"

namespace certctl {
namespace {

constexpr char kLockName[] = "certctl:schema-migrations";

constexpr char kCreateTable[] = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user
))sql";

Result<std::vector<AppliedMigration>> ReadApplied(Transaction& tx) {
  std::vector<AppliedMigration> out;
  auto exists = tx.work().exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return out;
  auto rows = tx.work().exec(
      "SELECT version, name, checksum, extract(epoch from applied_at) FROM "
      "schema_migrations "
      "ORDER BY version");
  for (const auto& r : rows) {
    out.push_back(
        {r[0].as<int>(), r[1].as<std::string>(), r[2].as<std::string>(), TimeFrom(r[3])});
  }
  return out;
}

Result<SchemaState> Compare(std::vector<AppliedMigration> applied,
                            const std::vector<Migration>& known) {
  SchemaState state;
  state.latest_version = known.empty() ? 0 : known.back().version;
  for (const auto& a : applied) {
    state.current_version = std::max(state.current_version, a.version);
    auto it = std::find_if(known.begin(), known.end(),
                           [&](const Migration& m) { return m.version == a.version; });
    if (it == known.end()) {
      return Status::FailedPrecondition(
          "database has migration " + a.name + " (version " + std::to_string(a.version) +
          ") that this certctl does not know: the database is newer than this binary; "
          "upgrade certctl");
    }
    if (it->checksum != a.checksum) {
      return Status::Corruption("migration " + it->name +
                                " was changed after it was applied "
                                "(checksum in database " +
                                a.checksum.substr(0, 12) + "..., in this binary " +
                                it->checksum.substr(0, 12) +
                                "...); restore the original file or the database");
    }
  }
  for (const auto& m : known) {
    bool done =
        std::any_of(applied.begin(), applied.end(),
                    [&](const AppliedMigration& a) { return a.version == m.version; });
    if (!done) state.pending.push_back(m);
  }
  state.applied = std::move(applied);
  return state;
}

}  // namespace

Result<Migration> MakeMigration(const std::string& file_name, const std::string& sql) {
  int version = 0;
  auto [p, ec] = std::from_chars(file_name.data(), file_name.data() + 4, version);
  if (file_name.size() < 10 || ec != std::errc() || p != file_name.data() + 4 ||
      file_name[4] != '_' || !file_name.ends_with(".sql") || version <= 0) {
    return Status::InvalidArgument("migration file name must look like 0001_name.sql: " +
                                   file_name);
  }
  return Migration{version, file_name, sql, Sha256Hex(sql)};
}

const std::vector<Migration>& EmbeddedMigrations() {
  static const std::vector<Migration> migrations = [] {
    std::vector<Migration> out;
    for (const auto& f : embedded::MigrationFiles()) {
      auto m = MakeMigration(f.file_name, f.content);
      if (!m.ok()) DieOnBadResultAccess(m.status());
      out.push_back(std::move(m).value());
    }
    std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) {
      return a.version < b.version;
    });
    return out;
  }();
  return migrations;
}

Result<SchemaState> InspectSchema(Database& db, const std::vector<Migration>& known) {
  std::vector<AppliedMigration> applied;
  RETURN_IF_ERROR(db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(applied, ReadApplied(tx));
    return Status::Ok();
  }));
  return Compare(std::move(applied), known);
}

Result<MigrationReport> Migrate(Database& db, const std::vector<Migration>& known,
                                bool dry_run) {
  ASSIGN_OR_RETURN(auto session, db.AcquireSession());
  // A session lock, held across the per-file transactions; a second migrator
  // waits here and then finds nothing left to do.
  RETURN_IF_ERROR(session->Run([&](Transaction& tx) {
    tx.work().exec_params("SELECT pg_advisory_lock(hashtextextended($1, 0))", kLockName);
    return Status::Ok();
  }));
  std::vector<AppliedMigration> applied;
  RETURN_IF_ERROR(session->Run([&](Transaction& tx) -> Status {
    if (!dry_run) tx.work().exec(kCreateTable);
    ASSIGN_OR_RETURN(applied, ReadApplied(tx));
    return Status::Ok();
  }));
  ASSIGN_OR_RETURN(SchemaState state, Compare(std::move(applied), known));
  MigrationReport report;
  report.from_version = report.to_version = state.current_version;
  for (const auto& m : state.pending) {
    if (!dry_run) {
      Status s = session->Run([&](Transaction& tx) {
        tx.work().exec(m.sql);
        tx.work().exec_params(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            m.version, m.name, m.checksum);
        return Status::Ok();
      });
      if (!s.ok())
        return s.WithContext("migration " + m.name + " failed and was rolled back");
    }
    report.applied.push_back(m);
    report.to_version = m.version;
  }
  return report;  // the session's destructor releases the advisory lock
}

Status RequireCurrentSchema(Database& db) {
  ASSIGN_OR_RETURN(SchemaState state, InspectSchema(db));
  if (!state.pending.empty()) {
    return Status::FailedPrecondition(
        "database schema is at version " + std::to_string(state.current_version) +
        " but this certctl needs version " + std::to_string(state.latest_version) + " (" +
        std::to_string(state.pending.size()) +
        " migration(s) pending): run `certctl-admin db migrate`");
  }
  return Status::Ok();
}

}  // namespace certctl
