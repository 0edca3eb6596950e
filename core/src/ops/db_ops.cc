#include "certctl/ops/db_ops.h"

#include "certctl/audit/audit_key.h"
#include "certctl/store/migrator.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

constexpr int kKeyedAuditSchema = 3;  // migrations/0003_audit_keyed_chain.sql

nlohmann::json MigrationJson(const Migration& m) {
  return {{"version", m.version}, {"name", m.name}, {"checksum", m.checksum}};
}

}  // namespace

Status MigrateDatabase(OpContext& ctx, OpReport& report) {
  report.operation = "db.migrate";
  report.target = ctx.db.MaskedUrl();
  report.dry_run = ctx.dry_run;
  if (!ctx.dry_run) {
    // The migration is audited: without the key nothing is changed.
    auto key = audit::AuditKey::FromConfig(ctx.config);
    if (!key.ok()) return report.status = key.status();
  }
  auto before = InspectSchema(ctx.db);
  // From schema 3 certctl signs audit events itself; older schemas cannot
  // hold them, so their upgrade is recorded once it is done.
  bool audit_ready = before.ok() && before->current_version >= kKeyedAuditSchema;
  if (before.ok()) {
    report.before = {{"version", before->current_version}};
    for (const auto& m : before->pending) report.plan.push_back("apply " + m.name);
  } else if (before.status().code() != StatusCode::kUnavailable) {
    // Changed checksums and unknown versions are reported by Migrate below.
  } else {
    return report.status = before.status();
  }
  auto run = [&]() -> Status {
    auto migrated = Migrate(ctx.db, EmbeddedMigrations(), ctx.dry_run);
    if (!migrated.ok()) return migrated.status();
    report.data["from_version"] = migrated->from_version;
    report.data["to_version"] = migrated->to_version;
    nlohmann::json applied = nlohmann::json::array();
    for (const auto& m : migrated->applied) {
      applied.push_back(MigrationJson(m));
      if (!ctx.dry_run) report.steps.push_back("applied " + m.name);
    }
    report.data["applied"] = applied;
    report.after = {{"version", migrated->to_version}};
    if (migrated->applied.empty()) report.steps.push_back("schema already current");
    return Status::Ok();
  };
  if (audit_ready) {
    return RunMutation(ctx, {"db.migrate", report.target, {}, {}}, report, run);
  }
  auto started = std::chrono::steady_clock::now();
  report.status = run();
  report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  if (!ctx.dry_run && report.status.ok()) {
    // The audit table now exists: record that the schema was created.
    Status s = WriteAuditEvent(ctx, "db.migrate", report.target,
                               report.steps.empty() ? "" : report.steps.back(), true,
                               report.data);
    if (!s.ok()) report.status = s.WithContext("write audit event");
  }
  return report.status;
}

Status DescribeSchema(OpContext& ctx, OpReport& report) {
  report.operation = "db.status";
  report.target = ctx.db.MaskedUrl();
  auto state = InspectSchema(ctx.db);
  if (!state.ok()) {
    if (state.status().code() == StatusCode::kCorruption ||
        state.status().code() == StatusCode::kFailedPrecondition) {
      report.AddFinding("error", "schema.mismatch", report.target,
                        state.status().message());
      return report.status = Status::Ok();
    }
    return report.status = state.status();
  }
  report.data["current_version"] = state->current_version;
  report.data["latest_version"] = state->latest_version;
  nlohmann::json applied = nlohmann::json::array(), pending = nlohmann::json::array();
  for (const auto& a : state->applied) {
    applied.push_back({{"version", a.version},
                       {"name", a.name},
                       {"checksum", a.checksum},
                       {"applied_at", FormatRfc3339(a.applied_at)}});
  }
  for (const auto& m : state->pending) pending.push_back(MigrationJson(m));
  report.data["applied"] = applied;
  report.data["pending"] = pending;
  if (!state->pending.empty()) {
    report.AddFinding("error", "schema.behind", report.target,
                      std::to_string(state->pending.size()) +
                          " migration(s) pending: run `certctl-admin db migrate`");
  }
  return report.status = Status::Ok();
}

}  // namespace certctl::ops
