// The append-only, hash-chained audit log.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/store/database.h"
#include "certctl/store/records.h"

namespace certctl {

struct AuditFilter {
  std::optional<TimePoint> since;  // occurred_at >= since
  std::string action;              // exact match; empty: any
  std::string actor;               // exact match; empty: any
  int limit = 1000;                // newest first within the limit, returned oldest first
};

struct AuditChainReport {
  int64_t rows_checked = 0;
  std::optional<int64_t> first_broken_id;  // set when the chain is broken
  std::string problem;                     // what is wrong at that row
};

class AuditRepo {
 public:
  // Appends an event; the database assigns id, time and hashes, which are
  // returned in the result.
  static Result<AuditEvent> Append(Transaction& tx, const AuditEvent& event);
  static Result<std::vector<AuditEvent>> List(Transaction& tx, const AuditFilter& filter);
  // Walks the whole log in id order and recomputes every link.
  static Result<AuditChainReport> VerifyChain(Transaction& tx);
};

}  // namespace certctl
