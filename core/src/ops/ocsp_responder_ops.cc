// The responder certificate procedures: ensure (lazy bootstrap and
// rotation), the scheduler's rotation pass, and reset-responder.
#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp_responder.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"
#include "ops/ocsp_engine.h"
#include "ops/responder_keys.h"
#include "store/certificate_repo.h"
#include "store/invalidation.h"
#include "store/issuer_repo.h"
#include "store/ocsp_repo.h"

namespace certctl::ops {
namespace {

using internal::CertificateOf;
using internal::IssueOptions;
using internal::IssueResponder;
using internal::NewResponder;
using internal::ResponderKeyPattern;

// Why a generation's responder must be (re)issued; empty reason: it is fine.
struct ResponderVerdict {
  ResponderAction action = ResponderAction::kNone;  // bootstrapped, rotated or replaced
  std::string reason;
};

ResponderVerdict Judge(const Config& config,
                       const std::optional<OcspResponderRecord>& row, X509* ca_cert,
                       TimePoint now) {
  if (!row) return {ResponderAction::kBootstrapped, "no responder certificate row"};
  auto loaded = internal::LoadResponder(*row, ca_cert);
  if (!loaded.ok()) return {ResponderAction::kReplaced, loaded.status().message()};
  if (now >= row->not_after - config.ocsp_responder_renew_before) {
    return {ResponderAction::kRotated,
            "less than " + FormatDuration(config.ocsp_responder_renew_before) +
                " left (notAfter " + FormatRfc3339(row->not_after) + ")"};
  }
  return {};
}

struct GenerationAndRow {
  CaGenerationRecord generation;
  std::optional<OcspResponderRecord> row;
  int64_t cached_answers = 0;           // only when asked for
  std::optional<std::string> last_key;  // newest history key_path, when asked for
};

// The generation (the active one when unset) and its responder row; for
// reset-responder's plan (`for_reset`), also the issuer's cached OCSP answers
// and the key file of the newest responder in history (the one --keep-key
// keeps when the row was deleted). The lazy bootstrap on the request path
// does not pay for those.
Result<GenerationAndRow> ReadGeneration(OpContext& ctx, const std::string& issuer,
                                        std::optional<int> generation, bool for_reset) {
  return ctx.db.Query<GenerationAndRow>([&](Transaction& tx) -> Result<GenerationAndRow> {
    GenerationAndRow out;
    std::optional<CaGenerationRecord> found;
    if (generation) {
      ASSIGN_OR_RETURN(found, IssuerRepo::FindGeneration(tx, issuer, *generation));
    } else {
      ASSIGN_OR_RETURN(found, IssuerRepo::ActiveGeneration(tx, issuer));
    }
    if (!found) {
      return Status::NotFound(generation ? "issuer " + issuer + " has no CA generation " +
                                               std::to_string(*generation)
                                         : "unknown issuer " + issuer);
    }
    out.generation = std::move(*found);
    ASSIGN_OR_RETURN(out.row,
                     OcspResponderRepo::Find(tx, issuer, out.generation.generation));
    if (for_reset) {
      ASSIGN_OR_RETURN(out.cached_answers,
                       InvalidationRepo::CountOcspAnswers(tx, issuer, ""));
      ASSIGN_OR_RETURN(auto newest, OcspResponderRepo::History(
                                        tx, issuer, out.generation.generation, 1));
      if (!newest.empty()) out.last_key = newest[0].responder.key_path;
    }
    return out;
  });
}

// The key file reset --keep-key keeps: the row's, or (row deleted) the
// newest responder's in history; it must load.
Result<std::string> KeyToKeep(const GenerationAndRow& state) {
  std::optional<std::string> path = state.row ? state.row->key_path : state.last_key;
  if (!path) {
    return Status::FailedPrecondition(
        "cannot keep the responder key: no responder of this generation was ever "
        "recorded; reset without --keep-key to make a new one");
  }
  auto existing = LoadPrivateKeyFile(*path);
  if (!existing.ok()) {
    return Status::FailedPrecondition(
        "cannot keep the responder key: " + existing.status().message() +
        "; reset without --keep-key to make a new one");
  }
  return *path;
}

void PlanReset(OpContext& ctx, const GenerationAndRow& state, const IssueOptions& options,
               OpReport& report) {
  const CaGenerationRecord& gen = state.generation;
  std::string pattern = ResponderKeyPattern(ctx.config, gen.issuer_id, gen.generation);
  report.plan.push_back(
      options.keep_key_path
          ? "keep the responder key " + *options.keep_key_path
          : "generate a new ECDSA P-256 key into a file of its own, " + pattern +
                (state.row ? "; the current key " + state.row->key_path +
                                 " stays in use until the switch, then is kept as a "
                                 "backup"
                           : ""));
  report.plan.push_back(
      "issue a new responder certificate from CA generation " +
      std::to_string(gen.generation) + " and make it current in one transaction" +
      (state.row ? ", replacing " + state.row->serial_number + " (kept in history)"
                 : ""));
  report.plan.push_back(
      "in that transaction, delete " + std::to_string(state.cached_answers) +
      " cached OCSP answers of " + gen.issuer_id + " and notify running certctld");
  report.plan.push_back(
      "verify: load the key file the row names, sign a test answer and check it with "
      "the CA certificate");
}

// Reads the generation's row back and checks it the way certctld will use it:
// the key file it names holds the certificate's key, and a test answer signed
// with them verifies with the CA certificate.
Status VerifyCurrentResponder(OpContext& ctx, const CaGenerationRecord& gen,
                              const std::string& serial) {
  auto row = ctx.db.Query<std::optional<OcspResponderRecord>>([&](Transaction& tx) {
    return OcspResponderRepo::Find(tx, gen.issuer_id, gen.generation);
  });
  if (!row.ok()) return row.status().WithContext("verification of the new responder");
  if (!*row || (*row)->serial_number != serial) {
    return Status::Internal(
        "verification of the new responder: the row no longer names " + serial +
        " (replaced meanwhile?)");
  }
  ASSIGN_OR_RETURN(auto ca, ctx.keyring.Get(gen));
  auto loaded = internal::LoadResponder(**row, ca->cert.get());
  if (!loaded.ok()) {
    return loaded.status().WithContext("verification of the new responder failed");
  }
  return internal::VerifyResponderWithTestAnswer(
             **loaded, ca->cert.get(), ctx.clock.Now(), ctx.config.ocsp_response_validity)
      .WithContext("verification of the new responder failed");
}

// After a reset, asks the live responder about serial 1 (nobody's) and checks
// that the answer comes signed by the new responder certificate.
Status CheckLiveResponder(OpContext& ctx, const LiveResponder& live,
                          ResponderReset& reset, OpReport& report) {
  OpReport check;
  auto answer = CheckOcspAnswer(ctx, reset.issuer, "1", live.fetch, check);
  report.findings.insert(report.findings.end(), check.findings.begin(),
                         check.findings.end());
  if (!answer.ok()) {
    return answer.status().WithContext("query the live responder at " + live.url);
  }
  reset.live_check = *answer;
  std::string served = answer->responder ? answer->responder->responder_serial : "";
  std::string fresh = reset.responder ? reset.responder->serial : "";
  if (served != fresh) {
    report.AddFinding("error", "ocsp.live_responder_stale", live.url,
                      "the live responder still signs with responder certificate " +
                          served + ", not the new " + fresh +
                          " (is that certctld on this database?)");
  } else {
    report.steps.push_back("the live responder at " + live.url +
                           " signs with the new certificate");
  }
  return Status::Ok();
}

}  // namespace

std::string_view ResponderActionName(ResponderAction action) {
  switch (action) {
    case ResponderAction::kNone:
      return "none";
    case ResponderAction::kBootstrapped:
      return "bootstrapped";
    case ResponderAction::kRotated:
      return "rotated";
    case ResponderAction::kReplaced:
      return "replaced";
    case ResponderAction::kSkipped:
      return "skipped";
    case ResponderAction::kBusy:
      return "busy";
    case ResponderAction::kFailed:
      return "failed";
  }
  return "unknown";
}

namespace {

// A generation's responder row and what should be done about it.
struct Assessment {
  GenerationAndRow state;
  ResponderVerdict verdict;
};

Result<Assessment> Assess(OpContext& ctx, const std::string& issuer, int generation) {
  ASSIGN_OR_RETURN(GenerationAndRow state,
                   ReadGeneration(ctx, issuer, generation, /*for_reset=*/false));
  ASSIGN_OR_RETURN(auto ca, ctx.keyring.Get(state.generation));
  ResponderVerdict verdict =
      Judge(ctx.config, state.row, ca->cert.get(), ctx.clock.Now());
  return Assessment{std::move(state), std::move(verdict)};
}

// The work of EnsureOcspResponder, under the lock (a dry run: without).
Result<ResponderEnsured> Ensure(OpContext& ctx, const std::string& issuer, int generation,
                                const std::string& subject, OpReport& report) {
  ResponderEnsured result{issuer, generation, ResponderAction::kNone, "", std::nullopt};
  // Read under the lock: another process may just have done the work.
  ASSIGN_OR_RETURN(Assessment a, Assess(ctx, issuer, generation));
  if (a.verdict.reason.empty()) {
    result.responder = CertificateOf(*a.state.row);
    report.steps.push_back("responder " + a.state.row->serial_number + " of " + subject +
                           " is usable until " + FormatRfc3339(a.state.row->not_after));
    return result;
  }
  std::string action(ResponderActionName(a.verdict.action));
  report.plan.push_back(action + " responder of " + subject + ": " + a.verdict.reason);
  result.action = a.verdict.action;
  result.reason = a.verdict.reason;
  if (ctx.dry_run) return result;
  ASSIGN_OR_RETURN(NewResponder fresh,
                   IssueResponder(ctx, a.state.generation, {a.verdict.reason}, report));
  result.responder = CertificateOf(fresh.record);
  report.steps.push_back(action + " responder " + fresh.record.serial_number + " of " +
                         subject + " (valid until " +
                         FormatRfc3339(fresh.record.not_after) +
                         "): " + a.verdict.reason);
  return result;
}

}  // namespace

Result<ResponderEnsured> EnsureOcspResponder(OpContext& ctx, const std::string& issuer,
                                             int generation, OpReport& report) {
  std::string subject = GenerationLabel(issuer, generation);
  MutationSpec spec{"ocsp.ensure-responder",
                    subject,
                    {{"generation", generation}},
                    {OcspResponderLockName(issuer)}};
  if (!ctx.dry_run) {
    // A look first, without lock or audit event: the usual finding of the
    // hourly pass, a usable responder, changes nothing and is not audited;
    // a replacement is, like every change an operator could make.
    ASSIGN_OR_RETURN(Assessment a, Assess(ctx, issuer, generation));
    if (a.verdict.reason.empty()) {
      report.operation = spec.action;
      report.target = subject;
      report.dry_run = false;
      report.steps.push_back("responder " + a.state.row->serial_number + " of " +
                             subject + " is usable until " +
                             FormatRfc3339(a.state.row->not_after));
      return ResponderEnsured{issuer, generation, ResponderAction::kNone, "",
                              CertificateOf(*a.state.row)};
    }
    spec.parameters["action"] = ResponderActionName(a.verdict.action);
    spec.parameters["reason"] = a.verdict.reason;
  }
  return RunMutation(ctx, spec, report,
                     [&] { return Ensure(ctx, issuer, generation, subject, report); });
}

namespace {

// Whether the scheduler keeps `g` up: the active generation, or a retired one
// that still has a responder row and unexpired certificates.
Result<bool> NeedsResponder(OpContext& ctx, const std::string& issuer,
                            const CaGenerationRecord& g, TimePoint now) {
  return ctx.db.Query<bool>([&](Transaction& tx) -> Result<bool> {
    if (g.state == GenerationState::kActive) return true;
    ASSIGN_OR_RETURN(auto row, OcspResponderRepo::Find(tx, issuer, g.generation));
    if (!row) return false;
    return CertificateRepo::GenerationHasUnexpired(tx, issuer, g.generation, now);
  });
}

ResponderRotation RotateOne(OpContext& ctx, const std::string& issuer, int generation,
                            OpReport& report) {
  ResponderRotation entry{issuer, generation, ResponderAction::kNone, "", Status::Ok()};
  OpReport sub;
  auto ensured = EnsureOcspResponder(ctx, issuer, generation, sub);
  for (auto& step : sub.steps) report.steps.push_back(step);
  for (auto& step : sub.plan) report.plan.push_back(step);
  if (ensured.ok()) {
    entry.action = ensured->action;
    entry.reason = ensured->reason;
  } else if (ensured.status().code() == StatusCode::kBusy) {
    entry.action = ResponderAction::kBusy;
    entry.reason = ensured.status().message();
  } else {
    entry.action = ResponderAction::kFailed;
    entry.error = ensured.status();
    report.AddFinding("error", "ocsp.rotation_failed",
                      GenerationLabel(issuer, generation), ensured.status().ToString());
  }
  return entry;
}

}  // namespace

Result<ResponderRotations> RotateDueOcspResponders(OpContext& ctx, OpReport& report) {
  report.operation = "ocsp.rotate-due";
  report.target = "*";
  report.dry_run = ctx.dry_run;
  ASSIGN_OR_RETURN(auto issuers,
                   ctx.db.Query<std::vector<IssuerRecord>>(
                       [](Transaction& tx) { return IssuerRepo::List(tx); }));
  ResponderRotations result;
  TimePoint now = ctx.clock.Now();
  for (const auto& issuer : issuers) {
    ASSIGN_OR_RETURN(auto gens,
                     ctx.db.Query<std::vector<CaGenerationRecord>>([&](Transaction& tx) {
                       return IssuerRepo::Generations(tx, issuer.id);
                     }));
    for (const auto& g : gens) {
      ASSIGN_OR_RETURN(bool needed, NeedsResponder(ctx, issuer.id, g, now));
      if (!needed || now >= g.not_after) {
        result.responders.push_back({issuer.id, g.generation, ResponderAction::kSkipped,
                                     now >= g.not_after
                                         ? "CA certificate expired"
                                         : "retired generation without live responder",
                                     Status::Ok()});
        continue;
      }
      result.responders.push_back(RotateOne(ctx, issuer.id, g.generation, report));
    }
  }
  return result;
}

Result<ResponderReset> ResetOcspResponder(OpContext& ctx, const std::string& issuer,
                                          bool keep_key, OpReport& report,
                                          const std::optional<LiveResponder>& live) {
  MutationSpec spec{"ocsp.reset-responder",
                    issuer,
                    {{"keep_key", keep_key}},
                    {OcspResponderLockName(issuer), OcspCacheLockName(issuer)}};
  auto reset = RunMutation(ctx, spec, report, [&]() -> Result<ResponderReset> {
    ASSIGN_OR_RETURN(GenerationAndRow state,
                     ReadGeneration(ctx, issuer, std::nullopt, /*for_reset=*/true));
    const CaGenerationRecord& gen = state.generation;
    IssueOptions options{"reset by " + ctx.actor.name, std::nullopt, true};
    ResponderReset result;
    result.issuer = issuer;
    result.generation = gen.generation;
    result.keep_key = keep_key;
    result.key_path = ResponderKeyPattern(ctx.config, issuer, gen.generation);
    result.old_serial = state.row ? state.row->serial_number : "";
    result.before = ResponderState{
        state.row ? std::optional(CertificateOf(*state.row)) : std::nullopt,
        state.cached_answers};
    if (keep_key) {
      ASSIGN_OR_RETURN(options.keep_key_path, KeyToKeep(state));
      result.key_path = *options.keep_key_path;
      ASSIGN_OR_RETURN(std::string database_id, internal::ThisDatabaseId(ctx, &report));
      RETURN_IF_ERROR(internal::CheckKeyFileOwned(*options.keep_key_path, database_id)
                          .WithContext("cannot keep the responder key"));
    }
    PlanReset(ctx, state, options, report);
    if (ctx.dry_run) return result;

    ASSIGN_OR_RETURN(NewResponder fresh, IssueResponder(ctx, gen, options, report));
    result.responder = CertificateOf(fresh.record);
    result.key_path = fresh.record.key_path;
    result.key_backup = fresh.key_backup;
    result.ocsp_rows_deleted = fresh.answers_dropped;
    report.steps.push_back("deleted " + std::to_string(fresh.answers_dropped) +
                           " cached OCSP answers of " + issuer +
                           " and notified running certctld (in the same transaction)");
    RETURN_IF_ERROR(VerifyCurrentResponder(ctx, gen, fresh.record.serial_number));
    result.verified = true;
    report.steps.push_back("verified: the key file " + fresh.record.key_path +
                           " holds the key of responder " + fresh.record.serial_number +
                           ", and a test answer it signs checks out with the CA "
                           "certificate");
    result.after = ResponderState{result.responder, 0};
    return result;
  });
  if (!reset.ok() || ctx.dry_run || !live) return reset;
  RETURN_IF_ERROR(CheckLiveResponder(ctx, *live, *reset, report));
  return reset;
}

}  // namespace certctl::ops
