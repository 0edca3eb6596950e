// Audit log procedures: reading the log and verifying its hash chain
// (`certctl-admin audit list` / `audit verify`). Both only read.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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

// `audit list`: the matching events. report.data: {"events": [{id,
// occurred_at, actor, host, action, target, outcome, command_line,
// parameters (object), detail, duration_ms|null, correlation_id}], "count",
// "limited" (true when `limit` cut older matches off)}.
// InvalidArgument for a limit out of range.
Status ListAuditEvents(OpContext& ctx, const AuditQuery& query, OpReport& report);

// `audit verify`: walks the whole log in id order recomputing every link.
// report.data: {"rows_checked", "intact", "first_broken_id"|null,
// "problem"|null}. A broken chain is an error finding "audit.chain_broken"
// naming the first broken row (the operation itself succeeds).
Status VerifyAuditLog(OpContext& ctx, OpReport& report);

}  // namespace certctl::ops
