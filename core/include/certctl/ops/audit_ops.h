// Audit log procedures: reading the log (`certctl-admin audit list`),
// verifying its keyed hash chain (`audit verify`) and acknowledging a break
// that has been explained (`audit anchor`).
//
// What verification detects, and what it cannot, is set out in
// certctl/audit/chain.h, chain_verifier.h and anchor.h, and for operators in
// certctl-admin-audit-verify(1).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/audit/chain_verifier.h"
#include "certctl/audit/event.h"
#include "certctl/ops/op.h"

namespace certctl::ops {

struct AuditQuery {
  std::optional<TimePoint> since;  // occurred_at >= since; unset: from the beginning
  std::string action;              // exact match ("crl.regenerate"); empty: any
  std::string actor;               // exact match; empty: any
  int limit = 1000;                // the newest `limit` matches, oldest first; 1..100000
};

// Parses --since: an RFC 3339 time or date ("2026-11-27T17:00:00Z",
// "2026-11-27"), or a duration back from `now` ("90s", "15m", "24h", "7d").
// InvalidArgument naming both accepted forms.
Result<TimePoint> ParseSince(std::string_view text, TimePoint now);

struct AuditEventList {
  std::vector<AuditEvent> events;  // oldest first
  bool limited = false;            // `limit` cut older matches off
};

// `audit list`: the matching events. InvalidArgument for a limit out of
// range.
Result<AuditEventList> ListAuditEvents(OpContext& ctx, const AuditQuery& query,
                                       OpReport& report);

// Every action the log holds, sorted (for completing `audit list --action`).
// Read-only, and quick on a long log.
Result<std::vector<std::string>> ListAuditActions(OpContext& ctx);

struct AuditVerifyOptions {
  // Anchor files to check the log against. Empty: the configured
  // audit_anchor_file, when it exists.
  std::vector<std::string> anchor_files;
  // False: no anchor unless named in anchor_files (a restored copy's log
  // ends before the head this host anchored). Default true.
  bool configured_anchor = true;
};

struct AuditLogVerified {
  int64_t rows_checked = 0;
  int64_t unkeyed_rows = 0;  // written before schema version 3
  int64_t keyed_rows = 0;
  std::string key_id;                       // of the audit key at hand
  std::optional<audit::AnchorHead> head;    // the newest row (written_at unset)
  std::vector<audit::NamedAnchor> anchors;  // checked against
  std::vector<audit::ChainBreak> breaks;    // listed, in log order, anchors last
  int64_t unlisted_breaks = 0;              // beyond audit::kMaxListedBreaks
  int64_t acknowledged = 0;                // listed breaks acknowledged by `audit anchor`
  bool intact = false;                     // no break that is not acknowledged
  std::optional<int64_t> first_broken_id;  // row of the first such break
  std::optional<std::string> problem;      // its message
};

// `audit verify`: walks the whole log in id order with the audit key from
// ctx.config, and checks it against the anchors. Each break not acknowledged
// is an error finding "audit.chain_broken" (the operation itself succeeds).
// Configuration when no audit key is configured, or when the key is not the
// one the log was written with (no keyed row names it): that is never
// reported as tampering. NotFound / InvalidArgument for an anchor file that
// is missing or is not an anchor.
Result<AuditLogVerified> VerifyAuditLog(OpContext& ctx, OpReport& report,
                                        const AuditVerifyOptions& options = {});

struct AuditAcknowledgeParams {
  std::string reason;                     // required, at most 1000 characters
  std::vector<std::string> anchor_files;  // as AuditVerifyOptions
};

struct AuditBreaksAcknowledged {
  std::vector<audit::ChainBreak> acknowledged;  // (a dry run: would be)
  std::vector<std::string> anchors;             // anchor files now naming the event
  std::optional<int64_t> event_id;              // the audit.anchor event written
};

// `audit anchor`: verifies as above, then records the breaks not yet
// acknowledged in one signed `audit.anchor` event ({reason, acknowledged:
// [break keys], breaks: [{kind, id, count}]}) and points the anchor files at
// it. Nothing in the log is rewritten; later verifications report those
// breaks as acknowledged. Nothing to acknowledge: no event, OK. Dry run:
// the plan only. InvalidArgument for a missing or over-long reason;
// FailedPrecondition when breaks beyond the listed maximum exist.
Result<AuditBreaksAcknowledged> AcknowledgeAuditBreaks(
    OpContext& ctx, const AuditAcknowledgeParams& params, OpReport& report);

// certctld start-up: Configuration when no audit key is configured;
// FailedPrecondition when the newest row was signed with another key. Warns
// through ctx.logger when no anchor file is configured.
Status CheckAuditSetup(OpContext& ctx);

}  // namespace certctl::ops
