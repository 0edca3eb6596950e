#include "ops/audit_trail.h"

#include <algorithm>

#include "certctl/util/encoding.h"

namespace certctl::ops {

Result<AuditTrail> AuditTrail::Open(const OpContext& ctx) {
  ASSIGN_OR_RETURN(audit::AuditKey key, audit::AuditKey::FromConfig(ctx.config));
  AuditTrail trail(std::move(key), ctx.config.audit_anchor_file);
  if (!trail.anchor_path_.empty()) {
    auto head = audit::ReadAnchorFile(trail.anchor_path_);
    if (head.ok()) {
      trail.anchor_ = std::move(head).value();
    } else {
      trail.anchor_status_ = head.status();
    }
  }
  return trail;
}

Result<AuditEvent> AuditTrail::Append(Transaction& tx, const AuditEvent& event) {
  std::optional<int64_t> anchored;
  if (anchor_) anchored = anchor_->id;
  ASSIGN_OR_RETURN(appended_, AuditRepo::Append(tx, key_, event, anchored));
  return appended_->event;
}

void AuditTrail::Committed(const OpContext& ctx) {
  if (!appended_ || anchor_path_.empty()) return;
  const AuditEvent& row = appended_->event;
  if (anchor_) {
    const auto& found = appended_->anchored;
    if (!found || found->seq != anchor_->seq || found->hash != anchor_->hash) {
      ctx.logger->error(
          "audit anchor {} names row {} at position {}, which is {} the log: the anchor "
          "is kept as it is, as evidence. Run `certctl-admin audit verify --anchor {}`; "
          "once the break is explained, `certctl-admin audit anchor --reason ...`",
          anchor_path_, anchor_->id, anchor_->seq,
          found ? "different in" : "no longer in", anchor_path_);
      return;
    }
  } else if (anchor_status_.code() != StatusCode::kNotFound) {
    ctx.logger->error("audit anchor not moved: {}", anchor_status_.message());
    return;
  } else if (*row.seq > 1) {
    ctx.logger->warn("audit anchor {} did not exist: starting it at position {} (row {})",
                     anchor_path_, *row.seq, row.id);
  }
  auto moved = audit::AdvanceAnchorFile(anchor_path_,
                                        {*row.seq, row.id, row.hash, ctx.clock.Now()});
  if (!moved.ok()) {
    ctx.logger->error("audit anchor {} not moved: {}", anchor_path_,
                      moved.status().message());
  }
}

Result<std::vector<std::string>> AuditTrail::ReplaceAnchors(
    const OpContext& ctx, const std::vector<std::string>& files) {
  std::vector<std::string> targets = files;
  if (!anchor_path_.empty() &&
      std::find(targets.begin(), targets.end(), anchor_path_) == targets.end()) {
    targets.push_back(anchor_path_);
  }
  if (!appended_) return Status::Internal("no audit event was appended");
  const AuditEvent& row = appended_->event;
  for (const auto& file : targets) {
    RETURN_IF_ERROR(
        audit::ReplaceAnchorFile(file, {*row.seq, row.id, row.hash, ctx.clock.Now()}));
  }
  return targets;
}

AuditEvent ActorEvent(const OpContext& ctx, std::string action, std::string target,
                      const nlohmann::json& parameters, std::string detail) {
  AuditEvent e;
  e.actor = ctx.actor.name;
  e.host = ctx.actor.host;
  e.action = std::move(action);
  e.target = std::move(target);
  e.command_line = ctx.actor.command_line;
  e.parameters_json = parameters.dump();
  e.detail = std::move(detail);
  return e;
}

std::string NewCorrelationId() {
  auto bytes = RandomBytes(8);
  return bytes.ok() ? HexEncode(*bytes) : std::string("0");
}

Status AppendAuditEvent(const OpContext& ctx, const AuditEvent& event) {
  ASSIGN_OR_RETURN(AuditTrail trail, AuditTrail::Open(ctx));
  RETURN_IF_ERROR(
      ctx.db.Run([&](Transaction& tx) { return trail.Append(tx, event).status(); }));
  trail.Committed(ctx);
  return Status::Ok();
}

}  // namespace certctl::ops
