// `db post-restore` (certctl/ops/post_restore.h): the published revocations
// re-applied, the CRL numbers moved past what was published, the caches
// emptied, the CRLs signed again and checked against what was published.
#include "certctl/ops/post_restore.h"

#include <unordered_map>
#include <unordered_set>

#include "certctl/pki/crl_reader.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"
#include "ops/crl_internal.h"
#include "ops/post_restore_internal.h"
#include "store/certificate_repo.h"
#include "store/invalidation.h"
#include "store/issuer_repo.h"

namespace certctl::ops {
namespace {

constexpr int kKeyedAuditSchema = 3;  // RunMutation's audit events need it

using internal::Evidence;
using internal::GenerationEvidence;

struct Restored {
  std::vector<std::string> issuers;
  std::vector<CaGenerationRecord> generations;
};

Result<Restored> ReadRestored(OpContext& ctx) {
  return ctx.db.Query<Restored>([](Transaction& tx) -> Result<Restored> {
    Restored out;
    ASSIGN_OR_RETURN(auto issuers, IssuerRepo::List(tx));
    for (const auto& issuer : issuers) {
      out.issuers.push_back(issuer.id);
      ASSIGN_OR_RETURN(auto gens, IssuerRepo::Generations(tx, issuer.id));
      for (auto& g : gens) out.generations.push_back(std::move(g));
    }
    return out;
  });
}

// A reason the schema accepts (migrations/0004): others are listed as
// unspecified, as RegenerateCrl would list them.
int StorableReason(int reason) {
  switch (reason) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 9:
      return reason;
  }
  return 0;
}

// The revocations of `g` the database lacks (into `result`), with findings
// for unknown certificates and differing reasons.
Status FindMissing(Transaction& tx, const GenerationEvidence& g,
                   DatabasePostRestore& result, OpReport& report) {
  const CaGenerationRecord& gen = g.generation;
  std::unordered_map<std::string, int> held;  // serial -> reason
  RETURN_IF_ERROR(RevocationRepo::ForEachInGeneration(tx, gen.issuer_id, gen.generation,
                                                      [&](const RevocationRecord& r) {
                                                        held.emplace(r.serial, r.reason);
                                                        return Status::Ok();
                                                      }));
  for (const auto& [serial, proven] : g.listed) {
    std::string subject = gen.issuer_id + "/" + serial;
    if (auto it = held.find(serial); it != held.end()) {
      if (it->second != StorableReason(proven.reason)) {
        report.AddFinding("warning", "post_restore.reason_differs", subject,
                          "the published CRL gives reason " +
                              std::string(RevocationReasonName(proven.reason)) +
                              ", the database " +
                              std::string(RevocationReasonName(it->second)) +
                              "; left as the database has it");
      }
      continue;
    }
    ASSIGN_OR_RETURN(auto cert, CertificateRepo::Find(tx, gen.issuer_id, serial));
    if (cert && cert->revocation) continue;  // revoked under another generation row
    if (!cert) {
      result.unknown_certificates.push_back(proven);
      report.AddFinding("error", "post_restore.unknown_certificate", subject,
                        proven.source +
                            " lists it as revoked, but the restored database "
                            "has no such certificate (issued after the "
                            "backup): it can not be revoked again here");
      continue;
    }
    ProvenRevocation r = proven;
    r.generation = cert->certificate.generation;
    result.reapplied.push_back(std::move(r));
  }
  return Status::Ok();
}

CrlNumberMove NumberMove(const GenerationEvidence& g, int64_t counter) {
  const CaGenerationRecord& gen = g.generation;
  CrlNumberMove m{gen.issuer_id, gen.generation, counter, g.highest, 0, false};
  m.moved = counter < g.highest;
  m.next = std::max(counter, g.highest) + 1;
  return m;
}

void Plan(const DatabasePostRestore& result, OpReport& report) {
  for (const auto& r : result.reapplied) {
    report.plan.push_back("re-apply the revocation of " + r.issuer + "/" + r.serial +
                          " (" + std::string(RevocationReasonName(r.reason)) + ", " +
                          FormatRfc3339(r.revoked_at) + "), proven by " + r.source);
  }
  for (const auto& m : result.crl_numbers) {
    std::string label = GenerationLabel(m.issuer, m.generation);
    report.plan.push_back(
        m.moved ? "move the CRL number of " + label + " from " +
                      std::to_string(m.counter) + " past " + std::to_string(m.published) +
                      ", the highest published: the next CRL is " + std::to_string(m.next)
                : "keep the CRL number of " + label + " at " + std::to_string(m.counter) +
                      " (highest published " + std::to_string(m.published) +
                      "): the next CRL is " + std::to_string(m.next));
  }
  report.plan.push_back(
      "delete every cached CRL and OCSP answer, and tell running certctld processes");
  report.plan.push_back(
      "sign every generation's CRL again and check it lists every published revocation");
}

// Step 3 of the header, in one transaction (only planned in a dry run).
Status Repair(OpContext& ctx, const Evidence& evidence,
              const std::vector<std::string>& issuers, DatabasePostRestore& result,
              OpReport& report) {
  return ctx.db.Run([&](Transaction& tx) -> Status {
    result.reapplied.clear();
    result.unknown_certificates.clear();
    result.crl_numbers.clear();
    for (const auto& g : evidence.generations) {
      RETURN_IF_ERROR(FindMissing(tx, g, result, report));
      const CaGenerationRecord& gen = g.generation;
      ASSIGN_OR_RETURN(int64_t counter,
                       IssuerRepo::LastCrlNumber(tx, gen.issuer_id, gen.generation));
      result.crl_numbers.push_back(NumberMove(g, counter));
    }
    Plan(result, report);
    if (ctx.dry_run) return Status::Ok();
    for (const auto& issuer : issuers) {
      // Row-locks the issuer and fences off live OCSP signings in flight.
      RETURN_IF_ERROR(IssuerRepo::BumpRevocationEpoch(tx, issuer).status());
    }
    for (const auto& r : result.reapplied) {
      RETURN_IF_ERROR(RevocationRepo::Insert(
          tx, {r.issuer, r.serial, r.generation, StorableReason(r.reason), r.revoked_at,
               ctx.actor.name + " (db post-restore)"}));
    }
    for (const auto& m : result.crl_numbers) {
      if (m.moved) {
        RETURN_IF_ERROR(
            IssuerRepo::RaiseCrlNumber(tx, m.issuer, m.generation, m.published).status());
      }
    }
    ASSIGN_OR_RETURN(result.crl_cache_rows_deleted, InvalidationRepo::DropCrls(tx, ""));
    ASSIGN_OR_RETURN(result.ocsp_cache_rows_deleted,
                     InvalidationRepo::DropOcspAnswers(tx, "", ""));
    return InvalidationRepo::Notify(tx, {"all", "", ""});
  });
}

void ReportRepair(const DatabasePostRestore& result, OpReport& report) {
  report.steps.push_back("re-applied " + std::to_string(result.reapplied.size()) +
                         " published revocation(s)");
  for (const auto& m : result.crl_numbers) {
    if (!m.moved) continue;
    report.steps.push_back(
        "moved the CRL number of " + GenerationLabel(m.issuer, m.generation) + " from " +
        std::to_string(m.counter) + " to " + std::to_string(m.published));
  }
  report.steps.push_back(
      "deleted " + std::to_string(result.crl_cache_rows_deleted) + " cached CRL(s) and " +
      std::to_string(result.ocsp_cache_rows_deleted) +
      " cached OCSP answer(s), and notified running certctld processes");
}

// Step 4's check of one regenerated CRL against the generation's evidence.
RegeneratedCrlCheck Check(const CrlArtifact& crl, const Evidence& evidence,
                          OpReport& report) {
  RegeneratedCrlCheck check{
      crl.issuer, crl.generation, crl.crl_number, crl.revoked_count, 0, {}};
  std::unordered_set<std::string> listed;
  auto view = CrlView::Parse(crl.der);
  if (view.ok()) {
    (void)view->ForEachEntry([&](const CrlEntry& e) {
      listed.insert(e.serial);
      return Status::Ok();
    });
  }
  for (const auto& g : evidence.generations) {
    if (g.generation.issuer_id != crl.issuer ||
        g.generation.generation != crl.generation) {
      continue;
    }
    check.highest_published = g.highest;
    for (const auto& [serial, proven] : g.listed) {
      if (!listed.count(serial)) check.missing_serials.push_back(serial);
    }
  }
  std::string label = GenerationLabel(crl.issuer, crl.generation);
  if (!check.missing_serials.empty()) {
    report.AddFinding("error", "post_restore.revocation_missing", label,
                      "the new CRL " + std::to_string(crl.crl_number) + " lacks " +
                          std::to_string(check.missing_serials.size()) +
                          " serial(s) a published CRL listed, first " +
                          check.missing_serials.front());
  } else if (check.number <= check.highest_published) {
    report.AddFinding("error", "post_restore.revocation_missing", label,
                      "the new CRL's number " + std::to_string(crl.crl_number) +
                          " is not above the highest published, " +
                          std::to_string(check.highest_published));
  } else {
    report.steps.push_back("verified: CRL " + std::to_string(crl.crl_number) + " of " +
                           label + " lists all " + std::to_string(listed.size()) +
                           " revocation(s), every published one among them, and its "
                           "number is above " +
                           std::to_string(check.highest_published));
  }
  return check;
}

// Step 4: sign again (under the CRL locks held) and check.
Status RegenerateAndCheck(OpContext& ctx, const std::vector<std::string>& issuers,
                          const Evidence& evidence, DatabasePostRestore& result,
                          OpReport& report) {
  for (const auto& issuer : issuers) {
    std::vector<CrlArtifact> artifacts;
    RegenerateOptions options;
    options.artifacts = &artifacts;
    // A dry run re-applies nothing: the plan counts what would be.
    for (const auto& r : result.reapplied) {
      if (r.issuer == issuer) ++options.planned_additions[r.generation];
    }
    auto regenerated = crl_internal::RegenerateHoldingLock(
        ctx, issuer, CrlTrigger::kAdmin, options, report);
    if (!regenerated.ok()) {
      // FailedPrecondition: no generation of the issuer publishes a CRL.
      if (regenerated.status().code() == StatusCode::kFailedPrecondition) continue;
      return regenerated.status();
    }
    for (auto& c : regenerated->crls) result.regenerated.push_back(c);
    for (const auto& a : artifacts) result.checks.push_back(Check(a, evidence, report));
  }
  return Status::Ok();
}

Result<int> SchemaVersionNow(OpContext& ctx) {
  OpReport ignored;
  ASSIGN_OR_RETURN(auto schema, DescribeSchema(ctx, ignored));
  return schema.current_version;
}

Status Migrate(OpContext& ctx, DatabasePostRestore& result, OpReport& report) {
  OpReport migration;
  ASSIGN_OR_RETURN(result.migrated, MigrateDatabase(ctx, migration));
  for (auto& p : migration.plan) report.plan.push_back(std::move(p));
  // A dry run did nothing: no steps (db migrate's "schema already current").
  if (!ctx.dry_run) {
    for (auto& s : migration.steps) report.steps.push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace

std::string PostRestoreLockName() { return "db:post-restore"; }

Result<DatabasePostRestore> PostRestore(OpContext& ctx, const PostRestoreOptions& options,
                                        OpReport& report) {
  report.operation = "db.post-restore";
  report.target = ctx.db.MaskedUrl();
  report.dry_run = ctx.dry_run;
  ASSIGN_OR_RETURN(Restored restored, ReadRestored(ctx));
  ASSIGN_OR_RETURN(
      Evidence evidence,
      internal::GatherEvidence(restored.generations, options.crl_files, report));
  DatabasePostRestore result;
  result.published = evidence.seen;
  // The audit events of RunMutation need the keyed audit schema: an older
  // restore is migrated first (MigrateDatabase records that itself).
  ASSIGN_OR_RETURN(int version, SchemaVersionNow(ctx));
  bool migrated_first = version < kKeyedAuditSchema;
  if (migrated_first) RETURN_IF_ERROR(Migrate(ctx, result, report));

  MutationSpec spec{"db.post-restore", report.target};
  spec.parameters = {{"crl_files", options.crl_files},
                     {"published_crls", evidence.seen.size()}};
  spec.locks = {PostRestoreLockName()};
  for (const auto& issuer : restored.issuers) {
    spec.locks.push_back(CrlLockName(issuer));
    spec.locks.push_back(OcspCacheLockName(issuer));
  }
  return RunMutation(ctx, spec, report, [&]() -> Result<DatabasePostRestore> {
    if (!migrated_first) RETURN_IF_ERROR(Migrate(ctx, result, report));
    RETURN_IF_ERROR(Repair(ctx, evidence, restored.issuers, result, report));
    if (!ctx.dry_run) ReportRepair(result, report);
    RETURN_IF_ERROR(RegenerateAndCheck(ctx, restored.issuers, evidence, result, report));
    return result;
  });
}

}  // namespace certctl::ops
