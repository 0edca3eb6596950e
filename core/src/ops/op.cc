#include "certctl/ops/op.h"

#include <algorithm>

#include "certctl/util/encoding.h"
#include "ops/audit_trail.h"
#include "store/operation_lock.h"

namespace certctl::ops {
namespace {

AuditEvent MakeEvent(const OpContext& ctx, const MutationSpec& spec, AuditOutcome outcome,
                     const std::string& correlation) {
  AuditEvent e = ActorEvent(ctx, spec.action, spec.target, spec.parameters);
  e.outcome = outcome;
  e.correlation_id = correlation;
  return e;
}

Status Append(OpContext& ctx, const AuditEvent& e) { return AppendAuditEvent(ctx, e); }

}  // namespace

bool OpReport::has_errors() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == "error"; });
}

void OpReport::AddFinding(std::string severity, std::string code, std::string subject,
                          std::string message) {
  findings.push_back(
      {std::move(severity), std::move(code), std::move(subject), std::move(message)});
}

namespace {

// The messages of the error findings from `from` on, or "" when none.
std::string ErrorFindings(const OpReport& report, size_t from) {
  std::string out;
  for (size_t i = from; i < report.findings.size(); ++i) {
    const Finding& f = report.findings[i];
    if (f.severity == "error") out += (out.empty() ? "" : "; ") + f.message;
  }
  return out;
}

}  // namespace

Status RunMutation(OpContext& ctx, const MutationSpec& spec, OpReport& report,
                   const std::function<Status()>& body) {
  auto started = std::chrono::steady_clock::now();
  auto finish = [&](Status s) {
    report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return s;
  };
  report.operation = spec.action;
  report.target = spec.target;
  report.dry_run = ctx.dry_run;
  if (ctx.dry_run) return finish(body());

  std::string correlation = NewCorrelationId();
  // The start event is committed before anything happens, so that even a
  // crash mid-operation leaves evidence that it began.
  if (spec.audit) {
    Status audited =
        Append(ctx, MakeEvent(ctx, spec, AuditOutcome::kStarted, correlation));
    if (!audited.ok()) return finish(audited.WithContext("write audit start event"));
  }

  Status result;
  const size_t findings_before = report.findings.size();
  {
    std::vector<std::unique_ptr<OperationLock>> held;
    LockOwner owner =
        ThisProcess(ctx.actor.program + " " + spec.action + " (" + ctx.actor.name + ")");
    for (const auto& name : spec.locks) {
      auto lock = OperationLock::Acquire(ctx.db, name, owner, ctx.lock_wait);
      if (!lock.ok()) {
        result = lock.status();
        break;
      }
      held.push_back(std::move(lock).value());
    }
    if (result.ok()) result = body();
    // Locks are released here, before the end event: the work is done.
  }

  if (!spec.audit) return finish(result);
  // An error finding the body added makes the run fail (the CLI exits 1), and
  // the audit outcome says so.
  std::string found = ErrorFindings(report, findings_before);
  bool succeeded = result.ok() && found.empty();
  AuditEvent end =
      MakeEvent(ctx, spec, succeeded ? AuditOutcome::kSucceeded : AuditOutcome::kFailed,
                correlation);
  end.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  end.detail = !result.ok() ? result.ToString()
               : !succeeded ? found
                            : (report.steps.empty() ? "" : report.steps.back());
  Status end_audited = Append(ctx, end);
  if (!end_audited.ok()) {
    ctx.logger->error("{}: could not write the audit end event: {}", spec.action,
                      end_audited.ToString());
    if (result.ok()) result = end_audited.WithContext("write audit end event");
  }
  return finish(result);
}

Status WriteAuditEvent(OpContext& ctx, const std::string& action,
                       const std::string& target, const std::string& detail,
                       bool succeeded, const nlohmann::json& parameters) {
  MutationSpec spec{action, target, parameters, {}};
  AuditEvent e =
      MakeEvent(ctx, spec, succeeded ? AuditOutcome::kSucceeded : AuditOutcome::kFailed,
                NewCorrelationId());
  e.detail = detail;
  return Append(ctx, e);
}

std::string CrlLockName(const std::string& issuer) { return "crl:" + issuer; }
std::string OcspResponderLockName(const std::string& issuer) {
  return "ocsp-responder:" + issuer;
}
std::string OcspCacheLockName(const std::string& issuer) {
  return "ocsp-cache:" + issuer;
}
std::string CaLockName(const std::string& issuer) { return "ca:" + issuer; }

}  // namespace certctl::ops
