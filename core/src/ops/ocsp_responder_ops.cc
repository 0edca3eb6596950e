// The responder certificate procedures: ensure (lazy bootstrap and
// rotation), the scheduler's rotation pass, and reset-responder.
#include <sys/stat.h>

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

namespace certctl::ops {
namespace {

using internal::LoadedResponder;
using internal::ResponderJson;
using internal::ResponderKeyPath;

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

struct NewResponder {
  OcspResponderRecord record;
  std::shared_ptr<const LoadedResponder> loaded;
  std::string key_backup;
};

// Issues a responder for `gen` (new key unless keep_key), writes the key file
// and replaces the row with history kept.
Result<NewResponder> IssueResponder(OpContext& ctx, const CaGenerationRecord& gen,
                                    bool keep_key, const std::string& reason,
                                    OpReport& report) {
  ASSIGN_OR_RETURN(auto ca, ctx.keyring.Get(gen));
  TimePoint now = ctx.clock.Now();
  std::string path = ResponderKeyPath(ctx.config, gen.issuer_id, gen.generation);
  UniquePtr<EVP_PKEY> key;
  if (keep_key) {
    ASSIGN_OR_RETURN(key, LoadPrivateKeyFile(path));
  } else {
    ASSIGN_OR_RETURN(key, GenerateKey(KeyAlgorithm::kEcdsaP256));
  }
  ResponderCertificateRequest req{
      gen.issuer_id + " OCSP Responder g" + std::to_string(gen.generation),
      key.get(),
      ca->cert.get(),
      ca->key.get(),
      now,
      ctx.config.ocsp_responder_validity};
  ASSIGN_OR_RETURN(auto cert, IssueResponderCertificate(req));
  NewResponder out;
  if (!keep_key) {
    RETURN_IF_ERROR(EnsureDirectory(ctx.config.ocsp_responder_key_dir, 0700));
    RETURN_IF_ERROR(WritePrivateKeyFile(path, key.get(), {}, &out.key_backup));
    report.steps.push_back(
        "wrote new responder key " + path +
        (out.key_backup.empty() ? "" : " (old key kept as " + out.key_backup + ")"));
  }
  ASSIGN_OR_RETURN(Serial serial, Serial::FromAsn1(X509_get0_serialNumber(cert.get())));
  OcspResponderRecord& r = out.record;
  r.issuer_id = gen.issuer_id;
  r.generation = gen.generation;
  r.serial_number = serial.hex();
  r.cert_subject = SubjectOf(cert.get());
  r.cert_pem = CertificateToPem(cert.get());
  r.not_before = NotBefore(cert.get());
  r.not_after = NotAfter(cert.get());
  r.key_path = path;
  r.created_at = now;
  RETURN_IF_ERROR(ctx.db.Run(
      [&](Transaction& tx) { return OcspResponderRepo::Replace(tx, r, reason, now); }));
  auto loaded = std::make_shared<LoadedResponder>();
  loaded->issuer = r.issuer_id;
  loaded->generation = r.generation;
  loaded->serial = r.serial_number;
  loaded->not_after = r.not_after;
  loaded->cert = std::move(cert);
  loaded->key = std::move(key);
  out.loaded = std::move(loaded);
  return out;
}

struct GenerationAndRow {
  CaGenerationRecord generation;
  std::optional<OcspResponderRecord> row;
  int64_t cached_answers = 0;  // only when asked for
};

// The generation (the active one when unset) and its responder row; with
// `count_cached`, also the issuer's cached OCSP answers (reset-responder's
// plan; the lazy bootstrap on the request path does not pay for the count).
Result<GenerationAndRow> ReadGeneration(OpContext& ctx, const std::string& issuer,
                                        std::optional<int> generation,
                                        bool count_cached) {
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
    if (count_cached) {
      ASSIGN_OR_RETURN(out.cached_answers,
                       InvalidationRepo::CountOcspAnswers(tx, issuer, ""));
    }
    return out;
  });
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
                     ReadGeneration(ctx, issuer, generation, /*count_cached=*/false));
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
    ASSIGN_OR_RETURN(NewResponder fresh, IssueResponder(ctx, state.generation, false,
                                                        verdict.reason, report));
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
                     ReadGeneration(ctx, issuer, std::nullopt, /*count_cached=*/true));
    const CaGenerationRecord& gen = state.generation;
    std::string path = ResponderKeyPath(ctx.config, issuer, gen.generation);
    std::string old_serial = state.row ? state.row->serial_number : "";
    report.before = {
        {"responder", state.row ? ResponderJson(*state.row) : nlohmann::json()},
        {"ocsp_rows", state.cached_answers}};
    report.data = {{"issuer", issuer},     {"generation", gen.generation},
                   {"keep_key", keep_key}, {"key_path", path},
                   {"key_backup", ""},     {"old_serial", old_serial},
                   {"responder", nullptr}, {"ocsp_rows_deleted", 0},
                   {"verified", false}};
    if (keep_key) {
      auto existing = LoadPrivateKeyFile(path);
      if (!existing.ok()) {
        return Status::FailedPrecondition(
            "cannot keep the responder key: " + existing.status().message() +
            "; reset without --keep-key to make a new one");
      }
    }
    report.plan.push_back(keep_key ? "keep the responder key " + path
                                   : "generate a new ECDSA P-256 key into " + path +
                                         " (an existing file is kept as a backup)");
    report.plan.push_back(
        "issue a new responder certificate from CA generation " +
        std::to_string(gen.generation) +
        (old_serial.empty() ? "" : ", replacing " + old_serial + " (kept in history)"));
    report.plan.push_back("delete " + std::to_string(state.cached_answers) +
                          " cached OCSP answers of " + issuer +
                          " and notify running certctld");
    report.plan.push_back(
        "verify: sign a test answer and check it with the CA certificate");
    if (ctx.dry_run) return Status::Ok();

    ASSIGN_OR_RETURN(
        NewResponder fresh,
        IssueResponder(ctx, gen, keep_key, "reset by " + ctx.actor.name, report));
    report.data["responder"] = ResponderJson(fresh.record);
    report.data["key_backup"] = fresh.key_backup;
    report.steps.push_back("issued responder " + fresh.record.serial_number +
                           " (valid until " + FormatRfc3339(fresh.record.not_after) +
                           ")");
    int64_t dropped = 0;
    RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(dropped, InvalidationRepo::DropOcspAnswers(tx, issuer, ""));
      return InvalidationRepo::Notify(tx, {"ocsp", issuer, ""});
    }));
    report.data["ocsp_rows_deleted"] = dropped;
    report.steps.push_back("deleted " + std::to_string(dropped) +
                           " cached OCSP answers of " + issuer +
                           " and notified running certctld");
    ASSIGN_OR_RETURN(auto ca, ctx.keyring.Get(gen));
    Status verified = internal::VerifyResponderWithTestAnswer(
        *fresh.loaded, ca->cert.get(), ctx.clock.Now(),
        ctx.config.ocsp_response_validity);
    if (!verified.ok())
      return verified.WithContext("verification of the new responder failed");
    report.data["verified"] = true;
    report.steps.push_back("verified: a test answer signed by " +
                           fresh.record.serial_number +
                           " checks out with the CA certificate");
    report.after = {{"responder", ResponderJson(fresh.record)}, {"ocsp_rows", 0}};
    return Status::Ok();
  });
}

}  // namespace certctl::ops
