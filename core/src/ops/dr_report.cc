#include "certctl/ops/dr_report.h"

#include <algorithm>

#include "certctl/ops/audit_ops.h"

namespace certctl::ops {
namespace {

std::vector<DrEvidenceSection> Sections() {
  return {
      {"checks", "DR checks", {"dr.check"}, {}, false},
      {"drills", "DR drills", {"dr.drill"}, {}, false},
      {"restore_checks", "Restore checks", {"db.restore-check"}, {}, false},
      {"backups", "CA backups", {"ca.backup"}, {}, false},
      {"rotations", "Rotations", {"ca.rotate", "ocsp.reset-responder"}, {}, false},
      {"recoveries",
       "Recoveries",
       {"db.post-restore", "db.migrate", "crl.regenerate", "cache.truncate",
        "cache.verify", "trust.reload", "audit.anchor"},
       {},
       false},
  };
}

Status Fill(OpContext& ctx, const DrReportOptions& options, DrEvidenceSection& section) {
  for (const auto& action : section.actions) {
    OpReport scratch;
    ASSIGN_OR_RETURN(
        AuditEventList list,
        ListAuditEvents(
            ctx, {.since = options.since, .action = action, .limit = options.limit},
            scratch));
    section.limited = section.limited || list.limited;
    for (auto& e : list.events) {
      if (e.outcome != AuditOutcome::kStarted) section.events.push_back(std::move(e));
    }
  }
  std::stable_sort(section.events.begin(), section.events.end(),
                   [](const AuditEvent& a, const AuditEvent& b) { return a.id < b.id; });
  return Status::Ok();
}

}  // namespace

Result<DrReport> BuildDrReport(OpContext& ctx, const DrReportOptions& options,
                               OpReport& report) {
  auto started = std::chrono::steady_clock::now();
  report.operation = "dr.report";
  if (options.limit < 1 || options.limit > 100000) {
    return Status::InvalidArgument("limit must be between 1 and 100000");
  }
  DrReport out;
  out.since = options.since;
  out.until = ctx.clock.Now();
  out.sections = Sections();
  for (auto& section : out.sections) RETURN_IF_ERROR(Fill(ctx, options, section));
  OpReport verify_report;
  auto verified = VerifyAuditLog(ctx, verify_report);
  if (verified.ok()) {
    out.audit_log_intact = verified->intact;
    out.audit_rows_checked = verified->rows_checked;
    out.audit_problem = verified->problem;
  } else {
    out.audit_problem = "not verified: " + verified.status().message();
  }
  if (!out.audit_log_intact) {
    report.AddFinding(
        "warning", "dr.audit_log_not_intact", "audit_events",
        "the audit log does not verify: " + out.audit_problem.value_or("unknown"));
  }
  report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return out;
}

}  // namespace certctl::ops
