// RegenerateCrl and InvalidateCrlCache: the CRL procedures that write.
#include "certctl/ops/crl_ops.h"

#include "certctl/pki/crl_builder.h"
#include "certctl/pki/crl_reader.h"
#include "certctl/util/encoding.h"
#include "certctl/util/fail_point.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"
#include "ops/crl_internal.h"
#include "ops/crl_published.h"
#include "store/certificate_repo.h"
#include "store/crl_repo.h"
#include "store/invalidation.h"
#include "store/issuer_repo.h"

namespace certctl::ops {
namespace {

constexpr int64_t kProgressEvery = 10000;

int64_t MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now() - start)
      .count();
}

// The fresh CRL is read back with the same reader that checks cached rows
// and fetched CRLs, so what we publish passes the check we apply to others.
Status VerifyFresh(const std::string& der, X509* ca_cert, int64_t number, int64_t entries,
                   TimePoint now) {
  auto view = CrlView::Parse(der);
  if (!view.ok()) return view.status();
  RETURN_IF_ERROR(view->VerifySignature(ca_cert));
  if (view->crl_number() != number) {
    return Status::Internal("CRL number read back differs from the one signed");
  }
  if (view->entry_count() != entries) {
    return Status::Internal("CRL read back has " + std::to_string(view->entry_count()) +
                            " entries, signed " + std::to_string(entries));
  }
  if (!view->next_update() || *view->next_update() <= now) {
    return Status::Internal("CRL read back is already expired");
  }
  return Status::Ok();
}

struct Generated {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  CrlArtifact artifact;
  bool reused = false;             // a valid cached CRL was taken instead
  std::optional<int64_t> entries;  // how far it got, for the event
  std::optional<int64_t> number;
  std::optional<int64_t> size;
};

// The number for the next CRL: the counter's next value, or past the highest
// number published when the counter is behind it: the cached CRL's, or the
// one recorded beside the CA key (ops/crl_published.h), which a database
// restored from an older backup can not take back.
Result<int64_t> ReserveNumber(OpContext& ctx, Transaction& tx,
                              const CaGenerationRecord& gen,
                              const std::optional<CrlCacheRecord>& cached,
                              OpReport& report) {
  ASSIGN_OR_RETURN(int64_t number,
                   IssuerRepo::NextCrlNumber(tx, gen.issuer_id, gen.generation));
  ASSIGN_OR_RETURN(int64_t recorded, internal::PublishedCrlNumberFloor(gen));
  int64_t published = std::max(recorded, cached ? cached->crl_number : int64_t{0});
  if (number > published) return number;
  ASSIGN_OR_RETURN(
      number, CrlRepo::ReserveNumberAbove(tx, gen.issuer_id, gen.generation, published));
  std::string note = "CRL number counter of " +
                     GenerationLabel(gen.issuer_id, gen.generation) +
                     " was behind the published CRL " + std::to_string(published) +
                     (published == recorded
                          ? " (recorded in " + internal::PublishedCrlNumberPath(gen) + ")"
                          : "") +
                     "; moved it to " + std::to_string(number);
  ctx.logger->warn("{}", note);
  report.steps.push_back(note);
  return number;
}

// Streams the generation's revocations into a builder and signs: the DER,
// parsed back and verified.
Result<std::string> SignCrl(OpContext& ctx, Transaction& tx,
                            const CaGenerationRecord& gen, const LoadedCa& ca,
                            const CrlParams& params, Generated& out) {
  ASSIGN_OR_RETURN(int64_t expected,
                   RevocationRepo::CountForGeneration(tx, gen.issuer_id, gen.generation));
  ASSIGN_OR_RETURN(auto builder, CrlBuilder::Start(params, expected));
  RETURN_IF_ERROR(RevocationRepo::ForEachInGeneration(
      tx, gen.issuer_id, gen.generation, [&](const RevocationRecord& r) -> Status {
        if (r.reason == CRL_REASON_REMOVE_FROM_CRL) {
          // Only a row written behind certctl's back (migration 0004 converts
          // old ones and its CHECK refuses new ones) can hold it.
          ctx.logger->warn(
              "revocation of {}/{} has reason removeFromCRL, which a complete CRL "
              "must not carry; listed as unspecified",
              r.issuer_id, r.serial);
        }
        RETURN_IF_ERROR(builder->Add(r.serial, r.revoked_at, r.reason));
        if (ctx.progress && builder->entry_count() % kProgressEvery == 0) {
          ctx.progress->Update("CRL entries", builder->entry_count(), expected);
        }
        return Status::Ok();
      }));
  out.entries = builder->entry_count();
  if (ctx.progress) ctx.progress->Update("CRL entries", *out.entries, expected);
  ASSIGN_OR_RETURN(std::string der, builder->Finish());
  out.size = static_cast<int64_t>(der.size());
  RETURN_IF_ERROR(
      VerifyFresh(der, ca.cert.get(), params.crl_number, *out.entries, ctx.clock.Now())
          .WithContext("freshly signed CRL failed its check"));
  return der;
}

// Builds, signs, verifies and stores one generation's CRL in `tx`.
Status BuildAndStore(OpContext& ctx, Transaction& tx, const CaGenerationRecord& gen,
                     const LoadedCa& ca, const std::optional<CrlCacheRecord>& cached,
                     Generated& out, OpReport& report) {
  ASSIGN_OR_RETURN(int64_t number, ReserveNumber(ctx, tx, gen, cached, report));
  out.number = number;
  CERTCTL_FAIL_POINT("crl.number-reserved");
  // CRL times have second precision; the row records exactly what was signed.
  TimePoint now = FromUnixSeconds(ToUnixSeconds(ctx.clock.Now()));
  CrlParams params{ca.cert.get(), ca.key.get(), number, now,
                   now + ctx.config.crl_validity};
  ASSIGN_OR_RETURN(std::string der, SignCrl(ctx, tx, gen, ca, params, out));
  CERTCTL_FAIL_POINT("crl.signed");
  // On disk before the commit that publishes it (ops/crl_published.h).
  RETURN_IF_ERROR(internal::RecordPublishedCrl(gen, number, der));

  CrlCacheRecord row;
  row.issuer_id = gen.issuer_id;
  row.generation = gen.generation;
  row.crl_number = number;
  row.this_update = params.this_update;
  row.next_update = params.next_update;
  row.generated_at = ctx.clock.Now();
  row.revoked_count = *out.entries;
  row.generation_duration_ms = MillisSince(out.started);  // all but the write itself
  row.der_sha256 = Sha256(der);
  row.size = *out.size;
  row.crl_der = std::move(der);
  RETURN_IF_ERROR(CrlRepo::Upsert(tx, row));
  RETURN_IF_ERROR(InvalidationRepo::Notify(tx, {"crl", gen.issuer_id, ""}));
  CERTCTL_FAIL_POINT("crl.stored-uncommitted");
  out.artifact = crl_internal::ArtifactFrom(std::move(row));
  return Status::Ok();
}

Status GenerateInTransaction(OpContext& ctx, const CaGenerationRecord& gen, bool reuse,
                             Generated& out, OpReport& report) {
  ASSIGN_OR_RETURN(auto ca, ctx.keyring.Get(gen));
  return ctx.db.Run([&](Transaction& tx) -> Status {
    std::optional<CrlCacheRecord> cached;
    if (reuse) {
      ASSIGN_OR_RETURN(cached, CrlRepo::Find(tx, gen.issuer_id, gen.generation));
      if (cached &&
          crl_internal::CheckCachedCrl(*cached, ca->cert.get(), ctx.clock.Now()).ok()) {
        out.reused = true;
        out.artifact = crl_internal::ArtifactFrom(std::move(*cached));
        return Status::Ok();
      }
    }
    ASSIGN_OR_RETURN(cached, CrlRepo::FindSummary(tx, gen.issuer_id, gen.generation));
    return BuildAndStore(ctx, tx, gen, *ca, cached, out, report);
  });
}

// One generation attempt, recorded as a crl_generation_events row whatever
// happens (except when a valid cached CRL was reused: nothing was attempted).
Status GenerateOne(OpContext& ctx, const CaGenerationRecord& gen, CrlTrigger trigger,
                   bool reuse, Generated& out, OpReport& report) {
  auto started = out.started = std::chrono::steady_clock::now();
  CrlGenerationEvent event;
  event.issuer_id = gen.issuer_id;
  event.generation = gen.generation;
  event.started_at = ctx.clock.Now();
  event.trigger = std::string(CrlTriggerName(trigger));
  event.runner = crl_internal::Runner();

  Status s = GenerateInTransaction(ctx, gen, reuse, out, report);
  if (s.ok() && out.reused) {
    report.steps.push_back("used the valid cached CRL " +
                           std::to_string(out.artifact.crl_number) + " of " +
                           GenerationLabel(gen.issuer_id, gen.generation));
    return s;
  }
  if (s.ok()) {
    CERTCTL_FAIL_POINT("crl.committed");
  }
  event.duration_ms = MillisSince(started);
  event.succeeded = s.ok();
  event.error = s.ok() ? "" : s.ToString();
  event.revoked_count = out.entries;
  event.crl_number =
      s.ok() ? out.number : std::nullopt;  // a rolled-back number was not used
  event.crl_size = out.size;
  Status recorded = ctx.db.Run(
      [&](Transaction& tx) { return CrlEventRepo::Append(tx, event).status(); });
  if (!recorded.ok()) {
    ctx.logger->error("could not record the CRL generation event of {}: {}",
                      GenerationLabel(gen.issuer_id, gen.generation),
                      recorded.ToString());
  }
  if (s.ok()) {
    CERTCTL_FAIL_POINT("crl.event-recorded");
  }
  if (!s.ok()) {
    ctx.logger->error("CRL generation for {} failed: {}",
                      GenerationLabel(gen.issuer_id, gen.generation), s.ToString());
    return s;
  }
  out.artifact.duration_ms = event.duration_ms;
  report.steps.push_back("signed CRL " + std::to_string(out.artifact.crl_number) +
                         " of " + GenerationLabel(gen.issuer_id, gen.generation) +
                         " with " + std::to_string(out.artifact.revoked_count) +
                         " entries (" + std::to_string(out.artifact.der.size()) +
                         " bytes) in " + std::to_string(event.duration_ms) +
                         " ms, verified and cached");
  return s;
}

CrlRegenerated Regenerated(const CrlArtifact& a) {
  return {a.issuer,
          a.generation,
          a.crl_number,
          a.this_update,
          a.next_update,
          a.revoked_count,
          static_cast<int64_t>(a.der.size()),
          std::chrono::milliseconds(a.duration_ms)};
}

// Dry run: what each generation would get, from reads only.
Result<std::vector<PlannedCrl>> PlanRegeneration(
    OpContext& ctx, const std::vector<CaGenerationRecord>& gens,
    const RegenerateOptions& options, OpReport& report) {
  std::vector<PlannedCrl> planned;
  for (const auto& gen : gens) {
    int64_t number = 0, entries = 0;
    RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(number,
                       IssuerRepo::LastCrlNumber(tx, gen.issuer_id, gen.generation));
      ASSIGN_OR_RETURN(auto cached,
                       CrlRepo::FindSummary(tx, gen.issuer_id, gen.generation));
      if (cached) number = std::max(number, cached->crl_number);
      ASSIGN_OR_RETURN(int64_t recorded, internal::PublishedCrlNumberFloor(gen));
      number = std::max(number, recorded) + 1;
      ASSIGN_OR_RETURN(
          entries, RevocationRepo::CountForGeneration(tx, gen.issuer_id, gen.generation));
      auto added = options.planned_additions.find(gen.generation);
      if (added != options.planned_additions.end()) entries += added->second;
      return Status::Ok();
    }));
    std::string subject = GenerationLabel(gen.issuer_id, gen.generation);
    report.plan.push_back(
        "sign CRL number " + std::to_string(number) + " for " + subject + " with " +
        std::to_string(entries) + " entries, valid for " +
        FormatDuration(ctx.config.crl_validity) + ", and replace its cached CRL");
    planned.push_back({gen.generation, number, entries});
    auto ca = ctx.keyring.Get(gen);
    if (!ca.ok()) {
      report.AddFinding("error", "crl.generation_failed", subject,
                        "would fail: " + ca.status().ToString());
    }
  }
  return planned;
}

// The generations to regenerate; NotFound for an unknown issuer/generation.
Result<std::vector<CaGenerationRecord>> Targets(OpContext& ctx, const std::string& issuer,
                                                std::optional<int> generation) {
  return ctx.db.Query<std::vector<CaGenerationRecord>>(
      [&](Transaction& tx) -> Result<std::vector<CaGenerationRecord>> {
        ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
        if (!found) return Status::NotFound("unknown issuer " + issuer);
        if (generation) {
          ASSIGN_OR_RETURN(auto gen, IssuerRepo::FindGeneration(tx, issuer, *generation));
          if (!gen)
            return Status::NotFound("issuer " + issuer + " has no CA generation " +
                                    std::to_string(*generation));
          return std::vector<CaGenerationRecord>{std::move(*gen)};
        }
        ASSIGN_OR_RETURN(
            auto gens, crl_internal::PublishingGenerations(tx, issuer, ctx.clock.Now()));
        if (gens.empty()) {
          return Status::FailedPrecondition("issuer " + issuer +
                                            " has no CA generation that "
                                            "publishes a CRL");
        }
        return gens;
      });
}

// RegenerateCrl's body, under the CRL lock.
Result<CrlRegeneration> GenerateTargets(OpContext& ctx, const std::string& issuer,
                                        const std::vector<CaGenerationRecord>& targets,
                                        CrlTrigger trigger,
                                        const RegenerateOptions& options,
                                        OpReport& report) {
  CrlRegeneration result{issuer, {}, std::nullopt};
  if (ctx.dry_run) {
    ASSIGN_OR_RETURN(result.planned, PlanRegeneration(ctx, targets, options, report));
    return result;
  }
  Status first;
  for (const auto& gen : targets) {
    Generated out;
    Status s = GenerateOne(ctx, gen, trigger, options.reuse_valid_cache, out, report);
    if (!s.ok()) {
      report.AddFinding("error", "crl.generation_failed",
                        GenerationLabel(issuer, gen.generation), s.ToString());
      if (first.ok()) first = s;
      continue;
    }
    if (!out.reused) result.crls.push_back(Regenerated(out.artifact));
    if (options.artifacts) options.artifacts->push_back(std::move(out.artifact));
  }
  if (!first.ok()) return first;
  return result;
}

}  // namespace

std::string_view CrlTriggerName(CrlTrigger trigger) {
  switch (trigger) {
    case CrlTrigger::kScheduled:
      return "scheduled";
    case CrlTrigger::kStartup:
      return "startup";
    case CrlTrigger::kRevocation:
      return "revocation";
    case CrlTrigger::kFetch:
      return "fetch";
    case CrlTrigger::kAdmin:
      return "admin";
    case CrlTrigger::kRotation:
      return "rotation";
  }
  return "unknown";
}

Result<CrlRegeneration> RegenerateCrl(OpContext& ctx, const std::string& issuer,
                                      CrlTrigger trigger, OpReport& report) {
  return RegenerateCrl(ctx, issuer, trigger, RegenerateOptions{}, report);
}

Result<CrlRegeneration> RegenerateCrl(OpContext& ctx, const std::string& issuer,
                                      CrlTrigger trigger,
                                      const RegenerateOptions& options,
                                      OpReport& report) {
  report.operation = "crl.regenerate";
  report.target = issuer;
  report.dry_run = ctx.dry_run;
  ASSIGN_OR_RETURN(auto targets, Targets(ctx, issuer, options.generation));

  MutationSpec spec;
  spec.action = "crl.regenerate";
  spec.target = issuer;
  spec.parameters = {{"trigger", std::string(CrlTriggerName(trigger))}};
  if (options.generation) spec.parameters["generation"] = *options.generation;
  spec.locks = {CrlLockName(issuer)};
  // Daemon-initiated generations are recorded by their event rows.
  spec.audit = trigger == CrlTrigger::kAdmin;
  return RunMutation(ctx, spec, report, [&]() -> Result<CrlRegeneration> {
    return GenerateTargets(ctx, issuer, targets, trigger, options, report);
  });
}

Result<CrlRegeneration> crl_internal::RegenerateHoldingLock(
    OpContext& ctx, const std::string& issuer, CrlTrigger trigger,
    const RegenerateOptions& options, OpReport& report) {
  ASSIGN_OR_RETURN(auto targets, Targets(ctx, issuer, options.generation));
  return GenerateTargets(ctx, issuer, targets, trigger, options, report);
}

Result<CrlCacheInvalidated> InvalidateCrlCache(OpContext& ctx, const std::string& issuer,
                                               OpReport& report) {
  report.operation = "crl.invalidate";
  report.target = issuer;
  report.dry_run = ctx.dry_run;
  auto targets = Targets(ctx, issuer, std::nullopt);
  if (!targets.ok() && targets.status().code() != StatusCode::kFailedPrecondition) {
    return targets.status();
  }
  MutationSpec spec{
      "crl.invalidate", issuer, nlohmann::json::object(), {CrlLockName(issuer)}};
  return RunMutation(ctx, spec, report, [&]() -> Result<CrlCacheInvalidated> {
    CrlCacheInvalidated result{issuer, 0, 0, "", std::nullopt, std::nullopt};
    RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(result.rows_to_delete, InvalidationRepo::CountCrls(tx, issuer));
      ASSIGN_OR_RETURN(auto active, IssuerRepo::ActiveGeneration(tx, issuer));
      if (!active) {
        result.next_fetch =
            "no CA generation of " + issuer + " is active; a fetch finds nothing to sign";
        return Status::Ok();
      }
      ASSIGN_OR_RETURN(int64_t last,
                       IssuerRepo::LastCrlNumber(tx, issuer, active->generation));
      ASSIGN_OR_RETURN(int64_t entries, RevocationRepo::CountForGeneration(
                                            tx, issuer, active->generation));
      result.next_fetch =
          "the next GET /.well-known/pki/crl/" + issuer +
          " finds no cached CRL, signs one live with the CA key of generation " +
          std::to_string(active->generation) + " (CRL number " +
          std::to_string(last + 1) + " or above, " + std::to_string(entries) +
          " entries) and writes it back to crl_cache with a generation event";
      return Status::Ok();
    }));
    int64_t rows = result.rows_to_delete;
    result.before = CachedCrlCount{rows};
    report.plan.push_back("delete " + std::to_string(rows) + " cached CRL row(s) of " +
                          issuer +
                          " and tell running certctld processes to drop their copies");
    if (ctx.dry_run) return result;
    RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(result.rows_deleted, InvalidationRepo::DropCrls(tx, issuer));
      return InvalidationRepo::Notify(tx, {"crl", issuer, ""});
    }));
    result.after = CachedCrlCount{rows - result.rows_deleted};
    report.steps.push_back("deleted " + std::to_string(result.rows_deleted) +
                           " cached CRL row(s) of " + issuer + "; " + result.next_fetch);
    return result;
  });
}

}  // namespace certctl::ops
