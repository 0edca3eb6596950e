// Writing audit events: the one path every writer takes (RunMutation,
// WriteAuditEvent, and the operations that audit inside their own
// transaction), so that every event is signed with the audit key and this
// host's anchor file follows the head of the chain.
//
// Private to core/src/ops.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/audit/anchor.h"
#include "certctl/audit/audit_key.h"
#include "certctl/ops/op.h"
#include "store/audit_repo.h"

namespace certctl::ops {

class AuditTrail {
 public:
  // The key from ctx.config (Configuration when it is not set) and the head
  // the anchor file names now, if one is configured.
  static Result<AuditTrail> Open(const OpContext& ctx);

  // Appends inside the caller's transaction (holding the chain lock until
  // it ends). May be called again if the transaction is retried.
  Result<AuditEvent> Append(Transaction& tx, const AuditEvent& event);

  // After the caller's transaction committed: moves the anchor file to the
  // appended row. When the row the file named is gone or changed, the file is
  // kept as it is (it is the evidence) and the logger says so at error level.
  void Committed(const OpContext& ctx);

  // After the caller's transaction committed: points the configured anchor
  // file and `files` at the appended row, whatever they named (`audit
  // anchor`). Returns what it wrote, for the report.
  Result<std::vector<std::string>> ReplaceAnchors(const OpContext& ctx,
                                                  const std::vector<std::string>& files);

 private:
  AuditTrail(audit::AuditKey key, std::string anchor_path)
      : key_(std::move(key)), anchor_path_(std::move(anchor_path)) {}

  audit::AuditKey key_;
  std::string anchor_path_;                  // empty: no anchor on this host
  std::optional<audit::AnchorHead> anchor_;  // as read by Open
  Status anchor_status_;                     // why it could not be read
  std::optional<AuditAppended> appended_;
};

// Appends one event in its own transaction, then moves the anchor file.
Status AppendAuditEvent(const OpContext& ctx, const AuditEvent& event);

// The one place an audit event is put together: actor, host and command line
// from ctx.actor, the parameters as JSON, outcome succeeded and no
// correlation id until the caller sets them.
AuditEvent ActorEvent(const OpContext& ctx, std::string action, std::string target,
                      const nlohmann::json& parameters, std::string detail = {});

// A fresh random correlation id (16 hex digits), tying a start event to its
// end event.
std::string NewCorrelationId();

}  // namespace certctl::ops
