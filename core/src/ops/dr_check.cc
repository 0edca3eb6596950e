#include "certctl/ops/dr_check.h"

#include "certctl/ops/audit_ops.h"
#include "certctl/util/time_format.h"
#include "ops/dr_check_internal.h"

namespace certctl::ops {
namespace internal {
namespace {

using CheckFn = DrCheckResult (*)(DrInputs&);

struct DrCheckEntry {
  DrCheckInfo info;
  CheckFn run;
};

// The runbook's checklist, line by line, in its order.
const std::vector<DrCheckEntry>& Table() {
  static const std::vector<DrCheckEntry> table = {
      {{"database_backup_age", DrProfile::kDaily,
        "Backups: Postgres backup runs nightly"},
       CheckDatabaseBackupAge},
      {{"database_backup_retention", DrProfile::kDaily, "Backups: retention >= 30 days"},
       CheckDatabaseBackupRetention},
      {{"database_backup_readable", DrProfile::kDaily,
        "Backups: the newest backup can be read by pg_restore"},
       CheckDatabaseBackupReadable},
      {{"ca_backup", DrProfile::kDaily, "Backups: CA cert + key offsite"}, CheckCaBackup},
      {{"responder_keys_backup", DrProfile::kDaily,
        "Backups: OCSP responder keys offsite (or accept rotate-from-CA on restore)"},
       CheckResponderKeysBackup},
      {{"trust_anchors_backup", DrProfile::kDaily, "Backups: Trust anchor PEMs offsite"},
       CheckTrustAnchorsBackup},
      {{"crl_fresh", DrProfile::kDaily, "Every CA generation's CRL is current"},
       CheckCrlsFresh},
      {{"ocsp_cache", DrProfile::kDaily,
        "The OCSP response cache agrees with the database"},
       CheckOcspCache},
      {{"responder_expiry", DrProfile::kDaily,
        "No OCSP responder certificate expires within 7 days"},
       CheckResponderExpiry},
      {{"operation_locks", DrProfile::kDaily,
        "No operation lock is held by a process that is gone"},
       CheckOperationLocks},
      {{"restore_check", DrProfile::kQuarterly,
        "Quarterly: dry-run a Postgres restore into a staging environment"},
       CheckRestoreCheckRecent},
      {{"ca_not_after", DrProfile::kQuarterly, "Quarterly: verify CA cert NotAfter > 1y"},
       CheckCaNotAfter},
      {{"responder_rotated", DrProfile::kQuarterly,
        "Quarterly: rotate the OCSP responder cert"},
       CheckResponderRotated},
      {{"dr_drill", DrProfile::kAnnual, "Annually: dry-run a full DR"}, CheckDrillRecent},
      {{"api_keys_age", DrProfile::kAnnual, "Annually: rotate API_KEY"}, CheckApiKeys},
      {{"bootstrap_token_age", DrProfile::kAnnual,
        "Annually: rotate AGENT_BOOTSTRAP_TOKEN"},
       CheckBootstrapToken},
  };
  return table;
}

int Rank(DrStatus s) {
  switch (s) {
    case DrStatus::kOk:
      return 0;
    case DrStatus::kUnknown:
      return 1;
    case DrStatus::kWarning:
      return 2;
    case DrStatus::kCritical:
      return 3;
  }
  return 3;
}

// The newest event of `action` that succeeded, from the audit log.
Result<std::optional<AuditEvent>> NewestSucceeded(OpContext& ctx,
                                                  const std::string& action) {
  OpReport scratch;
  ASSIGN_OR_RETURN(AuditEventList list,
                   ListAuditEvents(ctx, {.action = action, .limit = 100}, scratch));
  for (auto it = list.events.rbegin(); it != list.events.rend(); ++it) {
    if (it->outcome == AuditOutcome::kSucceeded) return std::optional<AuditEvent>(*it);
  }
  return std::optional<AuditEvent>();
}

// A recurring exercise the audit log must show: never is critical.
DrCheckResult CheckEvidence(DrInputs& in, const std::string& action, const char* what,
                            std::chrono::seconds warning, std::chrono::seconds critical,
                            const std::string& fix) {
  auto newest = NewestSucceeded(in.ctx, action);
  if (!newest.ok()) {
    return Outcome(DrStatus::kUnknown,
                   "cannot read the audit log: " + newest.status().message(), fix);
  }
  if (!*newest) {
    return Outcome(DrStatus::kCritical,
                   std::string("no ") + what + " is recorded in the audit log (action " +
                       action + ")",
                   fix);
  }
  auto age =
      std::chrono::duration_cast<std::chrono::seconds>(in.now - (*newest)->occurred_at);
  std::string message = std::string("the last ") + what + " was on " +
                        FormatRfc3339((*newest)->occurred_at) + " by " +
                        (*newest)->actor + " (" + Age(age) + " ago)";
  if (age > critical) return Outcome(DrStatus::kCritical, message + ": overdue", fix);
  if (age > warning) return Outcome(DrStatus::kWarning, message + ": due", fix);
  return Outcome(DrStatus::kOk, message);
}

bool InProfile(DrProfile check, DrProfile wanted) {
  return wanted == DrProfile::kAll || check == wanted;
}

// The "secrets" parameter of the newest dr.check run that recorded one.
nlohmann::json PreviousSecrets(OpContext& ctx) {
  OpReport scratch;
  auto list = ListAuditEvents(ctx, {.action = "dr.check", .limit = 20}, scratch);
  if (!list.ok()) return nullptr;
  for (auto it = list->events.rbegin(); it != list->events.rend(); ++it) {
    auto params = nlohmann::json::parse(it->parameters_json, nullptr, false);
    if (params.is_object() && params.contains("secrets") && params["secrets"].is_object())
      return params["secrets"];
  }
  return nullptr;
}

std::string Summary(const DrCheckRun& run) {
  int counts[4] = {0, 0, 0, 0};
  for (const auto& c : run.checks) ++counts[DrStatusValue(c.status)];
  return std::to_string(counts[0]) + " ok, " + std::to_string(counts[1]) + " warning, " +
         std::to_string(counts[2]) + " critical, " + std::to_string(counts[3]) +
         " unknown";
}

}  // namespace

const Result<CaStatus>& DrInputs::Ca() {
  if (!ca_) {
    OpReport scratch;
    ca_.emplace(DescribeCa(
        ctx, "", {.warning = t.ca_not_after_warning, .critical = t.ca_not_after_critical},
        scratch));
  }
  return *ca_;
}

const Result<ResponderStatus>& DrInputs::Responders(const std::string& issuer) {
  auto it = responders_.find(issuer);
  if (it == responders_.end()) {
    OpReport scratch;
    it = responders_.emplace(issuer, DescribeOcspResponder(ctx, issuer, scratch)).first;
  }
  return it->second;
}

DrCheckResult Outcome(DrStatus status, std::string message, std::string fix) {
  DrCheckResult r;
  r.status = status;
  r.message = std::move(message);
  if (status != DrStatus::kOk) r.fix = std::move(fix);
  return r;
}

DrStatus Worse(DrStatus a, DrStatus b) { return Rank(a) >= Rank(b) ? a : b; }

std::string Age(std::chrono::seconds age) {
  auto hours = std::chrono::duration_cast<std::chrono::hours>(age).count();
  if (hours < 48) return std::to_string(hours) + "h";
  return std::to_string(hours / 24) + "d";
}

DrCheckResult CheckRestoreCheckRecent(DrInputs& in) {
  return CheckEvidence(in, "db.restore-check", "restore check",
                       in.t.restore_check_warning, in.t.restore_check_critical,
                       "certctl-admin db restore-check --dump <newest backup>");
}

DrCheckResult CheckDrillRecent(DrInputs& in) {
  return CheckEvidence(in, "dr.drill", "DR drill", in.t.drill_warning,
                       in.t.drill_critical, "certctl-admin dr drill");
}

}  // namespace internal

std::string_view DrStatusName(DrStatus status) {
  switch (status) {
    case DrStatus::kOk:
      return "ok";
    case DrStatus::kWarning:
      return "warning";
    case DrStatus::kCritical:
      return "critical";
    case DrStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

int DrStatusValue(DrStatus status) {
  switch (status) {
    case DrStatus::kOk:
      return 0;
    case DrStatus::kWarning:
      return 1;
    case DrStatus::kCritical:
      return 2;
    case DrStatus::kUnknown:
      return 3;
  }
  return 3;
}

std::string_view DrProfileName(DrProfile profile) {
  switch (profile) {
    case DrProfile::kDaily:
      return "daily";
    case DrProfile::kQuarterly:
      return "quarterly";
    case DrProfile::kAnnual:
      return "annual";
    case DrProfile::kAll:
      return "all";
  }
  return "all";
}

Result<DrProfile> ParseDrProfile(std::string_view name) {
  for (DrProfile p :
       {DrProfile::kDaily, DrProfile::kQuarterly, DrProfile::kAnnual, DrProfile::kAll}) {
    if (DrProfileName(p) == name) return p;
  }
  return Status::InvalidArgument("unknown profile \"" + std::string(name) +
                                 "\": expected daily, quarterly, annual or all");
}

const std::vector<DrCheckInfo>& DrChecks() {
  static const std::vector<DrCheckInfo> infos = [] {
    std::vector<DrCheckInfo> out;
    for (const auto& e : internal::Table()) out.push_back(e.info);
    return out;
  }();
  return infos;
}

Result<DrCheckRun> RunDrChecks(OpContext& ctx, const DrCheckOptions& options,
                               OpReport& report) {
  auto started = std::chrono::steady_clock::now();
  report.operation = "dr.check";
  report.target = std::string(DrProfileName(options.profile));
  RETURN_IF_ERROR(ctx.db.Ping());
  internal::DrInputs in(ctx, options.thresholds);
  internal::FingerprintSecrets(in, internal::PreviousSecrets(ctx));
  DrCheckRun run;
  run.profile = options.profile;
  run.checked_at = in.now;
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& entry : internal::Table()) {
    if (!internal::InProfile(entry.info.profile, options.profile)) continue;
    DrCheckResult r = entry.run(in);
    r.name = entry.info.name;
    r.profile = entry.info.profile;
    run.worst = internal::Worse(run.worst, r.status);
    statuses[r.name] = DrStatusName(r.status);
    run.checks.push_back(std::move(r));
  }
  Status recorded = WriteAuditEvent(
      ctx, "dr.check", report.target, internal::Summary(run), true,
      {{"profile", report.target}, {"checks", statuses}, {"secrets", in.secrets}});
  run.recorded = recorded.ok();
  if (!recorded.ok()) {
    report.AddFinding("warning", "dr.check_not_recorded", "audit_events",
                      "this run is not in the audit log: " + recorded.message());
  }
  report.steps.push_back(internal::Summary(run));
  report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return run;
}

}  // namespace certctl::ops
