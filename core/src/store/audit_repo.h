// The append-only, keyed audit chain in PostgreSQL.
//
// Rows are linked and signed by certctl (certctl/audit/chain.h), not by the
// database. Append serialises writers with a transaction-scoped advisory lock
// ("certctl:audit-chain"), reads the head, and inserts the next row with its
// position, the head's hash and its HMAC; the lock is held until the caller's
// transaction ends, so every replica and the admin tool extend one linear
// chain. A trigger (migration 0003) refuses an insert that does not extend the
// head, and others refuse UPDATE, DELETE and TRUNCATE; none of them stops the
// database's owner, which is what the key and the anchor file are for.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "certctl/audit/audit_key.h"
#include "certctl/audit/event.h"
#include "certctl/store/database.h"

namespace certctl {

struct AuditFilter {
  std::optional<TimePoint> since;  // occurred_at >= since
  std::string action;              // exact match; empty: any
  std::string actor;               // exact match; empty: any
  int limit = 1000;                // newest first within the limit, returned oldest first
};

// A row as Append found it while holding the chain lock.
struct AuditRowRef {
  int64_t seq = 0;  // 0 for an unkeyed row
  std::string hash;
};

struct AuditAppended {
  AuditEvent event;                     // as stored: id, time, seq, hashes, key id
  std::optional<AuditRowRef> anchored;  // the row asked about, if it exists
};

class AuditRepo {
 public:
  // Appends `event` after the head, signed with `key`. Text fields are signed
  // exactly as PostgreSQL stores them (they are read back first), so a value
  // the server normalises (jsonb) or cuts still verifies. `anchored_id`, when
  // set, is looked up under the same lock (for the anchor file's check).
  // FailedPrecondition when the head was signed with another audit key: this
  // host's key is not the log's, and appending would fork the chain.
  static Result<AuditAppended> Append(Transaction& tx, const audit::AuditKey& key,
                                      const AuditEvent& event,
                                      std::optional<int64_t> anchored_id = std::nullopt);
  static Result<std::vector<AuditEvent>> List(Transaction& tx, const AuditFilter& filter);
  // Every row in id order, through a cursor (flat memory however long the log).
  static Status Scan(Transaction& tx,
                     const std::function<Status(const AuditEvent&)>& visit);
  // The newest row; nullopt for an empty log.
  static Result<std::optional<AuditEvent>> Head(Transaction& tx);
};

}  // namespace certctl
