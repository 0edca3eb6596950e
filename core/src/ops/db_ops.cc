// `db migrate` and `db status`.
#include "certctl/ops/db_ops.h"

#include "certctl/audit/audit_key.h"
#include "certctl/ops/db_json.h"
#include "ops/config_key_check.h"
#include "store/migrator.h"

namespace certctl::ops {
namespace {

constexpr int kKeyedAuditSchema = 3;  // migrations/0003_audit_keyed_chain.sql

MigrationInfo InfoOf(const Migration& m) { return {m.version, m.name, m.checksum, {}}; }

std::chrono::milliseconds Since(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
}

}  // namespace

Result<DatabaseMigrated> MigrateDatabase(OpContext& ctx, OpReport& report) {
  report.operation = "db.migrate";
  report.target = ctx.db.MaskedUrl();
  report.dry_run = ctx.dry_run;
  if (!ctx.dry_run) {
    // The migration is audited: without the key nothing is changed.
    RETURN_IF_ERROR(audit::AuditKey::FromConfig(ctx.config).status());
  }
  auto before = InspectSchema(ctx.db);
  // From schema 3 certctl signs audit events itself; older schemas cannot
  // hold them, so their upgrade is recorded once it is done.
  bool audit_ready = before.ok() && before->current_version >= kKeyedAuditSchema;
  std::optional<SchemaVersion> version_before;
  if (before.ok()) {
    version_before = SchemaVersion{before->current_version};
    for (const auto& m : before->pending) report.plan.push_back("apply " + m.name);
  } else if (before.status().code() == StatusCode::kUnavailable) {
    return before.status();
  }  // Changed checksums and unknown versions are reported by Migrate below.
  auto run = [&]() -> Result<DatabaseMigrated> {
    ASSIGN_OR_RETURN(auto migrated, Migrate(ctx.db, EmbeddedMigrations(), ctx.dry_run));
    DatabaseMigrated result{migrated.from_version,
                            migrated.to_version,
                            {},
                            version_before,
                            SchemaVersion{migrated.to_version}};
    for (const auto& m : migrated.applied) {
      result.applied.push_back(InfoOf(m));
      if (!ctx.dry_run) report.steps.push_back("applied " + m.name);
    }
    if (migrated.applied.empty()) report.steps.push_back("schema already current");
    if (!ctx.dry_run) {
      RETURN_IF_ERROR(internal::RecordEncryptionKeyCheck(ctx.db, ctx.config, report));
    }
    return result;
  };
  if (audit_ready) {
    return RunMutation(ctx, {"db.migrate", report.target, {}, {}}, report, run);
  }
  auto started = std::chrono::steady_clock::now();
  auto result = run();
  report.duration = Since(started);
  if (ctx.dry_run || !result.ok()) return result;
  Status s = WriteAuditEvent(ctx, "db.migrate", report.target,
                             report.steps.empty() ? "" : report.steps.back(), true,
                             ToJson(*result));
  if (!s.ok()) return s.WithContext("write audit event");
  return result;
}

Result<SchemaStatus> DescribeSchema(OpContext& ctx, OpReport& report) {
  report.operation = "db.status";
  report.target = ctx.db.MaskedUrl();
  auto state = InspectSchema(ctx.db);
  SchemaStatus status;
  if (!state.ok()) {
    if (state.status().code() == StatusCode::kCorruption ||
        state.status().code() == StatusCode::kFailedPrecondition) {
      report.AddFinding("error", "schema.mismatch", report.target,
                        state.status().message());
      status.known = false;
      return status;
    }
    return state.status();
  }
  status.current_version = state->current_version;
  status.latest_version = state->latest_version;
  for (const auto& a : state->applied) {
    status.applied.push_back({a.version, a.name, a.checksum, a.applied_at});
  }
  for (const auto& m : state->pending) status.pending.push_back(InfoOf(m));
  if (!state->pending.empty()) {
    report.AddFinding("error", "schema.behind", report.target,
                      std::to_string(state->pending.size()) +
                          " migration(s) pending: run `certctl-admin db migrate`");
  }
  return status;
}

Status RequireCurrentSchema(Database& db) { return certctl::RequireCurrentSchema(db); }

}  // namespace certctl::ops
