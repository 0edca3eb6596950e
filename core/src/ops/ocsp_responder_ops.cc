// The responder certificate procedures: ensure (lazy bootstrap and
// rotation), the scheduler's rotation pass, and reset-responder.
#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp_responder.h"
#include "certctl/store/certificate_repo.h"
#include "certctl/store/invalidation.h"
#include "certctl/store/issuer_repo.h"
#include "certctl/store/ocsp_repo.h"
#include "certctl/util/time_format.h"
#include "ops/ocsp_engine.h"
#include "ops/responder_keys.h"

namespace certctl::ops {
namespace {

using internal::IssueOptions;
using internal::IssueResponder;
using internal::NewResponder;
using internal::ResponderJson;
using internal::ResponderKeyPattern;

// Why a generation's responder must be (re)issued; empty reason: it is fine.
struct ResponderVerdict {
  std::string action;  // "bootstrapped", "rotated" or "replaced"
  std::string reason;
};

ResponderVerdict Judge(const Config& config,
                       const std::optional<OcspResponderRecord>& row, X509* ca_cert,
                       TimePoint now) {
  if (!row) return {"bootstrapped", "no responder certificate row"};
  auto loaded = internal::LoadResponder(*row, ca_cert);
  if (!loaded.ok()) return {"replaced", loaded.status().message()};
  if (now >= row->not_after - config.ocsp_responder_renew_before) {
    return {"rotated", "less than " + FormatDuration(config.ocsp_responder_renew_before) +
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

}  // namespace

Status EnsureOcspResponder(OpContext& ctx, const std::string& issuer, int generation,
                           bool audit, OpReport& report) {
  std::string subject = issuer + "/g" + std::to_string(generation);
  MutationSpec spec{"ocsp.ensure-responder",
                    subject,
                    {{"generation", generation}},
                    {OcspResponderLockName(issuer)},
                    audit};
  report.data = {{"issuer", issuer},
                 {"generation", generation},
                 {"action", "none"},
                 {"reason", ""},
                 {"responder", nullptr}};
  return RunMutation(ctx, spec, report, [&]() -> Status {
    // Read under the lock: another process may just have done the work.
    ASSIGN_OR_RETURN(GenerationAndRow state,
                     ReadGeneration(ctx, issuer, generation, /*for_reset=*/false));
    ASSIGN_OR_RETURN(auto ca, ctx.keyring.Get(state.generation));
    ResponderVerdict verdict =
        Judge(ctx.config, state.row, ca->cert.get(), ctx.clock.Now());
    if (verdict.reason.empty()) {
      report.data["responder"] = ResponderJson(*state.row);
      report.steps.push_back("responder " + state.row->serial_number + " of " + subject +
                             " is usable until " + FormatRfc3339(state.row->not_after));
      return Status::Ok();
    }
    report.plan.push_back(verdict.action + " responder of " + subject + ": " +
                          verdict.reason);
    report.data["action"] = verdict.action;
    report.data["reason"] = verdict.reason;
    if (ctx.dry_run) return Status::Ok();
    ASSIGN_OR_RETURN(NewResponder fresh,
                     IssueResponder(ctx, state.generation, {verdict.reason}, report));
    report.data["responder"] = ResponderJson(fresh.record);
    report.steps.push_back(verdict.action + " responder " + fresh.record.serial_number +
                           " of " + subject + " (valid until " +
                           FormatRfc3339(fresh.record.not_after) +
                           "): " + verdict.reason);
    return Status::Ok();
  });
}

Status RotateDueOcspResponders(OpContext& ctx, OpReport& report) {
  report.operation = "ocsp.rotate-due";
  report.target = "*";
  report.dry_run = ctx.dry_run;
  report.data["responders"] = nlohmann::json::array();
  auto issuers = ctx.db.Query<std::vector<IssuerRecord>>(
      [](Transaction& tx) { return IssuerRepo::List(tx); });
  if (!issuers.ok()) return report.status = issuers.status();
  Status first_error;
  TimePoint now = ctx.clock.Now();
  for (const auto& issuer : *issuers) {
    auto gens = ctx.db.Query<std::vector<CaGenerationRecord>>(
        [&](Transaction& tx) { return IssuerRepo::Generations(tx, issuer.id); });
    if (!gens.ok()) return report.status = gens.status();
    for (const auto& g : *gens) {
      nlohmann::json entry = {{"issuer", issuer.id},
                              {"generation", g.generation},
                              {"action", "skipped"},
                              {"reason", ""},
                              {"error", nullptr}};
      auto needed = ctx.db.Query<bool>([&](Transaction& tx) -> Result<bool> {
        if (g.state == GenerationState::kActive) return true;
        ASSIGN_OR_RETURN(auto row, OcspResponderRepo::Find(tx, issuer.id, g.generation));
        if (!row) return false;
        return CertificateRepo::GenerationHasUnexpired(tx, issuer.id, g.generation, now);
      });
      if (!needed.ok()) return report.status = needed.status();
      if (!*needed || now >= g.not_after) {
        entry["reason"] = now >= g.not_after
                              ? "CA certificate expired"
                              : "retired generation without live responder";
        report.data["responders"].push_back(entry);
        continue;
      }
      OpReport sub;
      Status s = EnsureOcspResponder(ctx, issuer.id, g.generation, /*audit=*/false, sub);
      for (auto& step : sub.steps) report.steps.push_back(step);
      for (auto& step : sub.plan) report.plan.push_back(step);
      entry["action"] = sub.data.value("action", "none");
      entry["reason"] = sub.data.value("reason", "");
      if (s.code() == StatusCode::kBusy) {
        entry["action"] = "busy";
        entry["reason"] = s.message();
      } else if (!s.ok()) {
        entry["action"] = "failed";
        entry["error"] = s.ToString();
        if (first_error.ok()) first_error = s;
      }
      report.data["responders"].push_back(entry);
    }
  }
  return report.status = first_error;
}

Status ResetOcspResponder(OpContext& ctx, const std::string& issuer, bool keep_key,
                          OpReport& report) {
  MutationSpec spec{"ocsp.reset-responder",
                    issuer,
                    {{"keep_key", keep_key}},
                    {OcspResponderLockName(issuer), OcspCacheLockName(issuer)}};
  return RunMutation(ctx, spec, report, [&]() -> Status {
    ASSIGN_OR_RETURN(GenerationAndRow state,
                     ReadGeneration(ctx, issuer, std::nullopt, /*for_reset=*/true));
    const CaGenerationRecord& gen = state.generation;
    IssueOptions options{"reset by " + ctx.actor.name, std::nullopt, true};
    std::string old_serial = state.row ? state.row->serial_number : "";
    report.before = {
        {"responder", state.row ? ResponderJson(*state.row) : nlohmann::json()},
        {"ocsp_rows", state.cached_answers}};
    report.data = {{"issuer", issuer},
                   {"generation", gen.generation},
                   {"keep_key", keep_key},
                   {"key_path", ResponderKeyPattern(ctx.config, issuer, gen.generation)},
                   {"key_backup", ""},
                   {"old_serial", old_serial},
                   {"responder", nullptr},
                   {"ocsp_rows_deleted", 0},
                   {"verified", false}};
    if (keep_key) {
      ASSIGN_OR_RETURN(options.keep_key_path, KeyToKeep(state));
      report.data["key_path"] = *options.keep_key_path;
    }
    PlanReset(ctx, state, options, report);
    if (ctx.dry_run) return Status::Ok();

    ASSIGN_OR_RETURN(NewResponder fresh, IssueResponder(ctx, gen, options, report));
    report.data["responder"] = ResponderJson(fresh.record);
    report.data["key_path"] = fresh.record.key_path;
    report.data["key_backup"] = fresh.key_backup;
    report.data["ocsp_rows_deleted"] = fresh.answers_dropped;
    report.steps.push_back("deleted " + std::to_string(fresh.answers_dropped) +
                           " cached OCSP answers of " + issuer +
                           " and notified running certctld (in the same transaction)");
    RETURN_IF_ERROR(VerifyCurrentResponder(ctx, gen, fresh.record.serial_number));
    report.data["verified"] = true;
    report.steps.push_back("verified: the key file " + fresh.record.key_path +
                           " holds the key of responder " + fresh.record.serial_number +
                           ", and a test answer it signs checks out with the CA "
                           "certificate");
    report.after = {{"responder", ResponderJson(fresh.record)}, {"ocsp_rows", 0}};
    return Status::Ok();
  });
}

}  // namespace certctl::ops
