// `certctl-admin dr report`: the evidence an auditor asks for, from the
// audit log: DR checks, drills, restore checks, backups, rotations and
// recoveries since a date, and whether the log itself verifies. JSON of the
// result: certctl/ops/dr_json.h. Read-only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/audit/event.h"
#include "certctl/ops/op.h"

namespace certctl::ops {

// One kind of evidence and the audit actions that make it.
struct DrEvidenceSection {
  std::string name;                  // "checks", "drills", "restore_checks",
                                     // "backups", "rotations", "recoveries"
  std::string title;                 // for people: "DR checks"
  std::vector<std::string> actions;  // e.g. {"dr.check"}
  // The end events (succeeded or failed) of those actions since the date,
  // oldest first; "started" events are left out (each run has one of each).
  std::vector<AuditEvent> events;
  bool limited = false;  // more than DrReportOptions::limit events: the newest kept
};

struct DrReport {
  TimePoint since;
  TimePoint until;                          // when the report was made
  std::vector<DrEvidenceSection> sections;  // in the order above
  // `audit verify` of the whole log: whether the evidence can be trusted.
  bool audit_log_intact = false;
  int64_t audit_rows_checked = 0;
  std::optional<std::string> audit_problem;  // why not intact, or why not verified
};

struct DrReportOptions {
  TimePoint since;
  int limit = 10000;  // per action, 1..100000
};

// Reads the sections' events since options.since and verifies the audit
// log (a broken chain is reported in the result, not as an error: the
// report is still evidence of what the log says). InvalidArgument for a
// limit out of range; Unavailable when the database is down.
Result<DrReport> BuildDrReport(OpContext& ctx, const DrReportOptions& options,
                               OpReport& report);

}  // namespace certctl::ops
