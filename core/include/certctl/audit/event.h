// An audit event: one row of the append-only, keyed audit log (see
// certctl/audit/chain.h for how rows are linked and signed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "certctl/util/clock.h"

namespace certctl {

enum class AuditOutcome { kStarted, kSucceeded, kFailed };

struct AuditEvent {
  int64_t id = 0;         // assigned by the database
  TimePoint occurred_at;  // assigned by the database
  std::string actor;
  std::string host;
  std::string action;  // e.g. "crl.regenerate", "certificate.revoke"
  std::string target;  // e.g. "iss-local" or "iss-local/3f0a..."
  AuditOutcome outcome = AuditOutcome::kSucceeded;
  std::string command_line;  // secrets masked by the caller
  std::string parameters_json = "{}";
  std::string detail;
  std::optional<int64_t> duration_ms;
  std::string correlation_id;  // ties a start event to its end event
  std::string prev_hash;       // raw bytes
  std::string hash;            // raw bytes
  // The chain (certctl/audit/chain.h): 1 for the unkeyed rows written before
  // schema version 3, 2 for rows keyed with the audit key.
  int chain_version = 2;
  std::optional<int64_t> seq;  // position in the log from 1; unset on version-1 rows
  std::string key_id;          // id of the audit key that signed it; empty on version 1
};

// "started", "succeeded", "failed": the names the audit_events table stores.
std::string_view AuditOutcomeName(AuditOutcome outcome);

}  // namespace certctl
