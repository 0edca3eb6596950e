// JSON of the audit procedures' results (see op_json.h), and of an audit
// event as certctld's GET /api/v1/audit-events lists it.
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/audit_ops.h"

namespace certctl::ops {

// {id, occurred_at, actor, host, action, target, outcome, command_line,
//  parameters (an object), detail, duration_ms|null, correlation_id}.
nlohmann::json ToJson(const AuditEvent& event);
// {events: [...], count, limited}.
nlohmann::json ToJson(const AuditEventList& list);
// {kind, id|null, count, message, key, acknowledged_by|null, reason|null}.
nlohmann::json ToJson(const audit::ChainBreak& b);
// {file, id, seq, written_at}.
nlohmann::json ToJson(const audit::NamedAnchor& anchor);
// {rows_checked, unkeyed_rows, keyed_rows, key_id, head: {id, seq, hash}|null,
//  anchors, intact, breaks, unlisted_breaks, acknowledged,
//  first_broken_id|null, problem|null}.
nlohmann::json ToJson(const AuditLogVerified& result);
// {acknowledged: [break], anchors: [file], event_id|null}.
nlohmann::json ToJson(const AuditBreaksAcknowledged& result);

}  // namespace certctl::ops
