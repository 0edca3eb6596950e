// The restored copy's schema and data: migrations, tables, row counts,
// foreign keys, the audit chain.
#include <algorithm>
#include <set>

#include "certctl/ops/audit_ops.h"
#include "ops/restore_check_internal.h"
#include "store/migrator.h"
#include "store/restore_check_repo.h"

namespace certctl::ops::internal {
namespace {

// Tables whose rows the runbook calls recoverable from the database alone
// (caches and lock records are rebuilt): an empty one is worth a word.
const std::set<std::string>& RecoverableTables() {
  static const std::set<std::string> tables = {"issuers",
                                               "ca_generations",
                                               "certificates",
                                               "certificate_revocations",
                                               "crl_numbers",
                                               "ocsp_responder_certs",
                                               "ocsp_responder_cert_history",
                                               "audit_events",
                                               "ca_backups",
                                               "ca_backup_generations",
                                               "ca_rotations",
                                               "ca_rotation_steps",
                                               "schema_migrations",
                                               "config_encryption_key_check"};
  return tables;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

Result<std::map<std::string, std::vector<std::string>>> TablesOf(Database& db) {
  return db.Query<std::map<std::string, std::vector<std::string>>>(
      [](Transaction& tx) { return RestoreCheckRepo::Tables(tx); });
}

Result<std::map<std::string, int64_t>> CountsOf(Database& db,
                                                const std::vector<std::string>& tables) {
  return db.Query<std::map<std::string, int64_t>>(
      [&](Transaction& tx) -> Result<std::map<std::string, int64_t>> {
        std::map<std::string, int64_t> out;
        for (const auto& t : tables) {
          ASSIGN_OR_RETURN(out[t], RestoreCheckRepo::CountRows(tx, t));
        }
        return out;
      });
}

Status CheckForeignKeys(Scratch& scratch, RestoreCheck& result, OpReport& report) {
  ASSIGN_OR_RETURN(
      auto keys, scratch.db->Query<std::vector<ForeignKeyOrphans>>(
                     [](Transaction& tx) { return RestoreCheckRepo::ForeignKeys(tx); }));
  for (const auto& k : keys) {
    if (k.rows == 0) continue;
    result.foreign_key_violations += k.rows;
    report.AddFinding("error", "restore.foreign_key", k.table,
                      std::to_string(k.rows) + " rows of " + k.table +
                          " refer to rows of " + k.references +
                          " that the dump does not hold (" + k.constraint + ")");
  }
  return Status::Ok();
}

void CheckAuditChain(OpContext& ctx, Scratch& scratch, RestoreCheck& result,
                     OpReport& report) {
  CaKeyring keyring;
  OpContext scratch_ctx{*scratch.db, ctx.config, ctx.clock,
                        ctx.logger,  keyring,    ctx.actor};
  OpReport audit;
  AuditVerifyOptions options;
  options.configured_anchor = false;  // this host's anchor names a newer head
  auto verified = VerifyAuditLog(scratch_ctx, audit, options);
  if (!verified.ok()) {
    report.AddFinding(
        "error", "restore.audit_unverified", "audit_events",
        "the dump's audit log could not be verified: " + verified.status().message());
    return;
  }
  result.audit_rows = verified->rows_checked;
  result.audit_intact = verified->intact;
  for (const auto& f : audit.findings) {
    if (f.severity != "error") continue;
    report.AddFinding("error", "restore.audit_chain", f.subject,
                      "the dump's audit log: " + f.message);
  }
}

}  // namespace

Status CheckMigrations(Scratch& scratch, RestoreCheck& result, OpReport& report) {
  auto state = InspectSchema(*scratch.db);
  if (!state.ok()) {
    if (state.status().code() == StatusCode::kUnavailable) return state.status();
    report.AddFinding(
        "error", "restore.schema_mismatch", "schema_migrations",
        "the dump's schema is not one this certctl can use: " + state.status().message());
    return Status::Ok();
  }
  result.dump_schema_version = state->current_version;
  if (state->current_version == 0) {
    report.AddFinding("error", "restore.no_schema", "schema_migrations",
                      "the dump holds no certctl schema (no applied migration)");
    return Status::Ok();
  }
  auto migrated = Migrate(*scratch.db);
  if (!migrated.ok()) {
    report.AddFinding("error", "restore.migration_failed", "schema_migrations",
                      "applying the pending migrations to the restored copy failed: " +
                          migrated.status().message());
    return Status::Ok();
  }
  result.schema_version = migrated->to_version;
  for (const auto& m : migrated->applied) {
    result.migrations_applied.push_back({m.version, m.name, m.checksum, {}});
    report.steps.push_back("applied " + m.name + " to the restored copy");
  }
  return Status::Ok();
}

Status CheckSchema(Scratch& scratch, Database& reference, RestoreCheck& result,
                   OpReport& report) {
  ASSIGN_OR_RETURN(auto expected, TablesOf(reference));
  ASSIGN_OR_RETURN(auto restored, TablesOf(*scratch.db));
  for (const auto& [table, columns] : expected) {
    auto found = restored.find(table);
    if (found == restored.end()) {
      result.missing_tables.push_back(table);
    } else if (found->second != columns) {
      report.AddFinding("error", "restore.columns_differ", table,
                        "table " + table + " has columns (" + Joined(found->second) +
                            "), this certctl's schema (" + Joined(columns) + ")");
    }
  }
  for (const auto& [table, columns] : restored) {
    if (!expected.count(table)) result.extra_tables.push_back(table);
  }
  if (!result.missing_tables.empty()) {
    report.AddFinding(
        "error", "restore.tables_missing", "schema",
        "tables missing from the restored copy: " + Joined(result.missing_tables));
  }
  if (!result.extra_tables.empty()) {
    report.AddFinding("warning", "restore.tables_extra", "schema",
                      "tables that are not certctl's: " + Joined(result.extra_tables));
  }
  return Status::Ok();
}

Result<std::map<std::string, int64_t>> CountRecoverableRows(Database& db) {
  ASSIGN_OR_RETURN(auto restored, TablesOf(db));
  std::vector<std::string> names;
  for (const auto& [table, columns] : restored) {
    if (RecoverableTables().count(table)) names.push_back(table);
  }
  return CountsOf(db, names);
}

Status CheckData(OpContext& ctx, Scratch& scratch, RestoreCheck& result,
                 OpReport& report) {
  ASSIGN_OR_RETURN(auto counts, CountRecoverableRows(*scratch.db));
  std::vector<std::string> names;
  for (const auto& [table, rows] : counts) names.push_back(table);
  ASSIGN_OR_RETURN(auto live_tables, TablesOf(ctx.db));
  std::vector<std::string> both;
  std::copy_if(names.begin(), names.end(), std::back_inserter(both),
               [&](const std::string& t) { return live_tables.count(t) > 0; });
  ASSIGN_OR_RETURN(auto live_counts, CountsOf(ctx.db, both));
  for (const auto& t : names) {
    RestoredTable row{t, counts[t], std::nullopt};
    if (live_counts.count(t)) row.live_rows = live_counts[t];
    result.tables.push_back(row);
  }
  if (counts["issuers"] == 0) {
    report.AddFinding("error", "restore.no_issuer", "issuers",
                      "the dump holds no issuer: certctl would start as a new CA");
  }
  RETURN_IF_ERROR(CheckForeignKeys(scratch, result, report));
  CheckAuditChain(ctx, scratch, result, report);
  return Status::Ok();
}

}  // namespace certctl::ops::internal
