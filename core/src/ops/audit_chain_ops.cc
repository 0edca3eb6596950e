// `audit verify`, `audit anchor` and certctld's start-up check of the audit key.
#include "certctl/audit/chain.h"
#include "certctl/audit/chain_verifier.h"
#include "certctl/ops/audit_ops.h"
#include "certctl/util/encoding.h"
#include "certctl/util/time_format.h"
#include "ops/audit_trail.h"
#include "store/audit_repo.h"

namespace certctl::ops {
namespace {

constexpr size_t kMaxReasonLength = 1000;

struct Verification {
  std::string key_id;
  std::vector<audit::NamedAnchor> anchors;
  audit::ChainReport chain;
};

std::chrono::milliseconds Since(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
}

// The files named, or else the configured one if it exists yet.
Result<std::vector<audit::NamedAnchor>> LoadAnchors(const Config& config,
                                                    const std::vector<std::string>& files,
                                                    bool configured = true) {
  std::vector<audit::NamedAnchor> out;
  for (const auto& file : files) {
    ASSIGN_OR_RETURN(audit::AnchorHead head, audit::ReadAnchorFile(file));
    out.push_back({file, std::move(head)});
  }
  if (!files.empty() || !configured || config.audit_anchor_file.empty()) return out;
  auto head = audit::ReadAnchorFile(config.audit_anchor_file);
  if (head.ok()) {
    out.push_back({config.audit_anchor_file, std::move(head).value()});
  } else if (head.status().code() != StatusCode::kNotFound) {
    return head.status();
  }
  return out;
}

Status WrongKey(const audit::ChainReport& chain, const std::string& key_id) {
  std::string named;
  for (const auto& [id, rows] : chain.other_keys) {
    named += (named.empty() ? "" : ", ") + id + " (" + std::to_string(rows) + " rows)";
  }
  return Status::Configuration(
      "the audit key at hand (id " + key_id +
      ") is not the key the audit log was written with: none of its " +
      std::to_string(chain.keyed_rows) + " keyed rows names it; they name key " + named +
      ". This says nothing about tampering: configure the log's audit_key "
      "(CERTCTL_AUDIT_KEY or audit_key_file) and verify again");
}

Result<Verification> Verify(OpContext& ctx, const std::vector<std::string>& files,
                            bool configured_anchor = true) {
  ASSIGN_OR_RETURN(audit::AuditKey key, audit::AuditKey::FromConfig(ctx.config));
  Verification v;
  v.key_id = key.id();
  // Anchors first: the row an anchor names was committed before it was
  // written, so the log read after it must hold that row.
  ASSIGN_OR_RETURN(v.anchors, LoadAnchors(ctx.config, files, configured_anchor));
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
    audit::ChainVerifier verifier(key, v.anchors);
    RETURN_IF_ERROR(
        AuditRepo::Scan(tx, [&](const AuditEvent& row) { return verifier.Add(row); }));
    v.chain = verifier.Finish();
    return Status::Ok();
  }));
  if (v.chain.keyed_rows > 0 && v.chain.rows_with_key == 0) {
    return WrongKey(v.chain, v.key_id);
  }
  return v;
}

void AddBreakFindings(const audit::ChainReport& c, OpReport& report) {
  for (const auto& b : c.breaks) {
    std::string subject =
        b.id ? "audit_events id " + std::to_string(b.id) : "audit anchor";
    if (b.acknowledged_by) {
      report.AddFinding("warning", "audit.acknowledged_break", subject,
                        b.message + " (acknowledged by audit event " +
                            std::to_string(*b.acknowledged_by) + ": " +
                            b.acknowledged_reason + ")");
    } else {
      report.AddFinding("error", "audit.chain_broken", subject, b.message);
    }
  }
  if (c.unlisted_breaks > 0) {
    report.AddFinding("error", "audit.chain_broken", "audit_events",
                      std::to_string(c.unlisted_breaks) +
                          " more breaks, not listed (at most " +
                          std::to_string(audit::kMaxListedBreaks) + " are)");
  }
}

void AddCaveats(const Verification& v, OpReport& report) {
  if (v.chain.unkeyed_rows > 0) {
    report.AddFinding(
        "warning", "audit.unkeyed_history", "audit_events",
        std::to_string(v.chain.unkeyed_rows) +
            " rows were written before the audit chain was keyed (schema version 3). A "
            "change to them after the first keyed row shows; one made before it with "
            "their hashes recomputed cannot be told from the original");
  }
  if (v.anchors.empty()) {
    report.AddFinding("warning", "audit.no_anchor", "audit_events",
                      "no anchor file to check against: deleting the newest rows would "
                      "not show (configure audit_anchor_file or give --anchor FILE)");
  }
}

AuditLogVerified Describe(Verification v, OpReport& report) {
  AddBreakFindings(v.chain, report);
  AddCaveats(v, report);
  audit::ChainReport& c = v.chain;
  AuditLogVerified r;
  r.rows_checked = c.rows;
  r.unkeyed_rows = c.unkeyed_rows;
  r.keyed_rows = c.keyed_rows;
  r.key_id = std::move(v.key_id);
  r.head = std::move(c.head);
  r.anchors = std::move(v.anchors);
  r.intact = c.intact();
  r.unlisted_breaks = c.unlisted_breaks;
  const audit::ChainBreak* first = nullptr;
  for (const auto& b : c.breaks) {
    if (b.acknowledged_by) ++r.acknowledged;
    if (!b.acknowledged_by && !first) first = &b;
  }
  if (first && first->id) r.first_broken_id = first->id;
  if (first) r.problem = first->message;
  r.breaks = std::move(c.breaks);
  return r;
}

Status CheckReason(const std::string& reason) {
  if (reason.empty()) {
    return Status::InvalidArgument(
        "--reason is required: say why the break is accepted, e.g. \"restored from the "
        "03:00 backup after incident 4711\"");
  }
  if (reason.size() > kMaxReasonLength) {
    return Status::InvalidArgument("--reason is longer than " +
                                   std::to_string(kMaxReasonLength) + " characters");
  }
  return Status::Ok();
}

AuditEvent Acknowledgement(const OpContext& ctx, const nlohmann::json& parameters,
                           const std::string& reason) {
  AuditEvent e =
      ActorEvent(ctx, audit::kAcknowledgeAction, "audit_events", parameters, reason);
  e.correlation_id = NewCorrelationId();
  return e;
}

// Records `breaks` in one signed event and points the anchors at it.
Status RecordAcknowledgement(OpContext& ctx, const AuditAcknowledgeParams& params,
                             const nlohmann::json& parameters,
                             AuditBreaksAcknowledged& result, OpReport& report) {
  ASSIGN_OR_RETURN(AuditTrail trail, AuditTrail::Open(ctx));
  AuditEvent written;
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(written,
                     trail.Append(tx, Acknowledgement(ctx, parameters, params.reason)));
    return Status::Ok();
  }));
  result.event_id = written.id;
  report.steps.push_back("recorded the acknowledgement as audit event " +
                         std::to_string(written.id) + " (position " +
                         std::to_string(*written.seq) + ")");
  ASSIGN_OR_RETURN(auto files, trail.ReplaceAnchors(ctx, params.anchor_files));
  for (const auto& f : files) {
    report.steps.push_back("anchor " + f + " now names row " +
                           std::to_string(written.id));
  }
  result.anchors = std::move(files);
  return Status::Ok();
}

}  // namespace

Result<AuditLogVerified> VerifyAuditLog(OpContext& ctx, OpReport& report,
                                        const AuditVerifyOptions& options) {
  report.operation = "audit.verify";
  report.target = "audit_events";
  auto started = std::chrono::steady_clock::now();
  auto v = Verify(ctx, options.anchor_files, options.configured_anchor);
  report.duration = Since(started);
  if (!v.ok()) return v.status();
  return Describe(std::move(v).value(), report);
}

Result<AuditBreaksAcknowledged> AcknowledgeAuditBreaks(
    OpContext& ctx, const AuditAcknowledgeParams& params, OpReport& report) {
  report.operation = audit::kAcknowledgeAction;
  report.target = "audit_events";
  report.dry_run = ctx.dry_run;
  RETURN_IF_ERROR(CheckReason(params.reason));
  ASSIGN_OR_RETURN(Verification v, Verify(ctx, params.anchor_files));
  if (v.chain.unlisted_breaks > 0) {
    return Status::FailedPrecondition(
        "the audit log has more than " + std::to_string(audit::kMaxListedBreaks) +
        " breaks: too many to acknowledge one by one; restore it from a backup and "
        "verify again");
  }
  AuditBreaksAcknowledged result;
  nlohmann::json keys = nlohmann::json::array(), breaks = nlohmann::json::array();
  for (const auto& b : v.chain.breaks) {
    if (b.acknowledged_by) continue;
    keys.push_back(b.key);
    breaks.push_back({{"kind", b.kind}, {"id", b.id}, {"count", b.count}});
    result.acknowledged.push_back(b);
    report.plan.push_back("acknowledge (" + b.kind + ") " + b.message);
  }
  if (keys.empty()) {
    report.steps.push_back("nothing to acknowledge: the chain verifies");
    return result;
  }
  nlohmann::json parameters = {
      {"reason", params.reason}, {"acknowledged", keys}, {"breaks", breaks}};
  // One event, the acknowledgement itself, written when it takes effect: no
  // separate start and end events (audit = false), but the operation lock.
  MutationSpec spec{
      audit::kAcknowledgeAction, "audit_events", parameters, {"audit"}, false};
  return RunMutation(ctx, spec, report, [&]() -> Result<AuditBreaksAcknowledged> {
    if (!ctx.dry_run) {
      RETURN_IF_ERROR(RecordAcknowledgement(ctx, params, parameters, result, report));
    }
    return result;
  });
}

Status CheckAuditSetup(OpContext& ctx) {
  ASSIGN_OR_RETURN(audit::AuditKey key, audit::AuditKey::FromConfig(ctx.config));
  auto head = ctx.db.Query<std::optional<AuditEvent>>(
      [](Transaction& tx) { return AuditRepo::Head(tx); });
  if (!head.ok()) return head.status();
  if (*head && (*head)->chain_version == audit::kKeyedChain &&
      (*head)->key_id != key.id()) {
    return Status::FailedPrecondition(
        "the configured audit_key (id " + key.id() +
        ") is not the key the audit log is signed with (its newest row, " +
        std::to_string((*head)->id) + ", names key " + (*head)->key_id +
        "): events written with it would not verify; configure the log's key");
  }
  if (ctx.config.audit_anchor_file.empty()) {
    ctx.logger->warn(
        "audit_anchor_file is not set: deleting the newest audit events would not be "
        "detected (see certctld(8))");
  }
  return Status::Ok();
}

}  // namespace certctl::ops
