// DescribeCrls and VerifyFetchedCrl: the operator's read-only CRL checks,
// and the cached-CRL check they share with the serving side.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "certctl/ops/crl_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/crl_builder.h"
#include "certctl/pki/crl_reader.h"
#include "certctl/util/encoding.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/process.h"
#include "certctl/util/time_format.h"
#include "ops/crl_internal.h"
#include "store/certificate_repo.h"
#include "store/issuer_repo.h"

namespace certctl::ops {
namespace crl_internal {

Result<std::vector<CaGenerationRecord>> PublishingGenerations(Transaction& tx,
                                                              const std::string& issuer,
                                                              TimePoint now) {
  ASSIGN_OR_RETURN(auto all, IssuerRepo::Generations(tx, issuer));
  std::vector<CaGenerationRecord> out;
  for (auto& gen : all) {
    bool publishes = gen.state == GenerationState::kActive;
    if (!publishes) {
      ASSIGN_OR_RETURN(publishes, CertificateRepo::GenerationHasUnexpired(
                                      tx, issuer, gen.generation, now));
    }
    if (publishes) out.push_back(std::move(gen));
  }
  return out;
}

CachedCrlCheck CheckCachedCrl(const CrlCacheRecord& row, X509* ca_cert, TimePoint now) {
  CachedCrlCheck check;
  auto view = CrlView::Parse(row.crl_der);
  if (!view.ok()) return {CrlVerdict::kCorrupt, view.status().message(), 0};
  check.entries = view->entry_count();
  if (view->crl_number() != row.crl_number) {
    check.verdict = CrlVerdict::kCorrupt;
    check.detail = "the CRL's number (" +
                   (view->crl_number() ? std::to_string(*view->crl_number()) : "none") +
                   ") is not the row's crl_number " + std::to_string(row.crl_number);
    return check;
  }
  if (Status s = view->VerifySignature(ca_cert); !s.ok()) {
    check.verdict = CrlVerdict::kBadSignature;
    check.detail = s.message();
    return check;
  }
  if (!view->next_update() || *view->next_update() <= now) {
    check.verdict = CrlVerdict::kStale;
    check.detail =
        view->next_update()
            ? "nextUpdate " + FormatRfc3339(*view->next_update()) + " has passed"
            : "the CRL has no nextUpdate";
    return check;
  }
  check.verdict = CrlVerdict::kOk;
  return check;
}

CachedCrlCheck CheckCachedCrl(const CrlCacheRecord& row, const CaGenerationRecord& gen,
                              TimePoint now) {
  auto cert = ParseCertificatePem(gen.cert_pem);
  if (!cert.ok())
    return {CrlVerdict::kBadSignature,
            "CA certificate of the generation: " + cert.status().message(), 0};
  return CheckCachedCrl(row, cert->get(), now);
}

CrlArtifact ArtifactFrom(CrlCacheRecord row) {
  CrlArtifact a;
  a.issuer = std::move(row.issuer_id);
  a.generation = row.generation;
  a.crl_number = row.crl_number;
  a.der_sha256 = row.der_sha256.empty() ? Sha256(row.crl_der) : std::move(row.der_sha256);
  a.der = std::move(row.crl_der);
  a.this_update = row.this_update;
  a.next_update = row.next_update;
  a.generated_at = row.generated_at;
  a.revoked_count = row.revoked_count;
  a.duration_ms = row.generation_duration_ms;
  return a;
}

std::string Runner() { return HostName() + ":" + std::to_string(::getpid()); }

}  // namespace crl_internal

namespace {

CachedCrlSummary SummaryOf(const CrlCacheRecord& row) {
  return {row.size,         row.crl_number,
          row.this_update,  row.next_update,
          row.generated_at, std::chrono::milliseconds(row.generation_duration_ms),
          row.revoked_count};
}

CrlGenerationAttempt AttemptOf(const CrlGenerationEvent& e) {
  return {
      e.started_at,    e.succeeded,  e.error,    std::chrono::milliseconds(e.duration_ms),
      e.revoked_count, e.crl_number, e.crl_size, e.trigger,
      e.runner};
}

// The verdict of one generation, from one transaction.
Result<CrlGenerationStatus> DescribeGeneration(OpContext& ctx, Transaction& tx,
                                               const CaGenerationRecord& gen, int events,
                                               OpReport& report) {
  ASSIGN_OR_RETURN(auto row, CrlRepo::Find(tx, gen.issuer_id, gen.generation));
  ASSIGN_OR_RETURN(int64_t db_count,
                   RevocationRepo::CountForGeneration(tx, gen.issuer_id, gen.generation));
  ASSIGN_OR_RETURN(auto recent,
                   CrlEventRepo::Recent(tx, gen.issuer_id, gen.generation, events));
  crl_internal::CachedCrlCheck check{CrlVerdict::kMissing, "no CRL is cached", 0};
  if (row) {
    check = crl_internal::CheckCachedCrl(*row, gen, ctx.clock.Now());
    if (check.ok() && (check.entries != db_count || row->revoked_count != db_count)) {
      check.verdict = CrlVerdict::kCountMismatch;
      check.detail = "the cached CRL lists " + std::to_string(check.entries) +
                     " revocations (row says " + std::to_string(row->revoked_count) +
                     "), the database has " + std::to_string(db_count);
    }
  }
  if (!check.ok()) {
    report.AddFinding("error", "crl." + std::string(CrlVerdictName(check.verdict)),
                      GenerationLabel(gen.issuer_id, gen.generation), check.detail);
  }
  CrlGenerationStatus g;
  g.generation = gen.generation;
  g.state = gen.state;
  g.verdict = check.verdict;
  g.detail = check.detail;
  if (row) g.cache = SummaryOf(*row);
  g.database_revoked_count = db_count;
  for (const auto& e : recent) g.events.push_back(AttemptOf(e));
  return g;
}

// A serial in a fixed-size form so 1M of them stay small and sortable.
using SerialKey = std::array<char, 40>;
SerialKey KeyOf(const std::string& serial) {
  SerialKey k{};
  std::memcpy(k.data(), serial.data(), std::min(serial.size(), k.size()));
  return k;
}
std::string SerialOf(const SerialKey& k) {
  return std::string(k.data(), strnlen(k.data(), k.size()));
}

constexpr size_t kListedSerials = 100;

// Compares the CRL's serials with the generation's revocations in the
// database: missing = revoked but not listed, extra = listed but not revoked.
Result<CrlSerialComparison> CompareSerials(OpContext& ctx, const CrlView& view,
                                           const std::string& issuer, int generation,
                                           OpReport& report) {
  std::vector<SerialKey> revoked;
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) {
    return RevocationRepo::ForEachInGeneration(tx, issuer, generation,
                                               [&](const RevocationRecord& r) {
                                                 revoked.push_back(KeyOf(r.serial));
                                                 return Status::Ok();
                                               });
  }));
  std::sort(revoked.begin(), revoked.end());
  std::vector<bool> listed(revoked.size(), false);
  CrlSerialComparison c;
  c.database_revoked_count = static_cast<int64_t>(revoked.size());
  RETURN_IF_ERROR(view.ForEachEntry([&](const CrlEntry& e) {
    SerialKey k = KeyOf(e.serial);
    auto it = std::lower_bound(revoked.begin(), revoked.end(), k);
    if (it != revoked.end() && *it == k) {
      listed[static_cast<size_t>(it - revoked.begin())] = true;
    } else if (++c.extra_count <= static_cast<int64_t>(kListedSerials)) {
      c.extra_serials.push_back(e.serial);
    }
    return Status::Ok();
  }));
  for (size_t i = 0; i < revoked.size(); ++i) {
    if (listed[i]) continue;
    if (++c.missing_count <= static_cast<int64_t>(kListedSerials))
      c.missing_serials.push_back(SerialOf(revoked[i]));
  }
  std::string subject = GenerationLabel(issuer, generation);
  if (c.missing_count > 0) {
    report.AddFinding("error", "crl.missing_serials", subject,
                      std::to_string(c.missing_count) +
                          " revoked certificate(s) are not on the "
                          "CRL, e.g. " +
                          c.missing_serials[0]);
  }
  if (c.extra_count > 0) {
    report.AddFinding("error", "crl.extra_serials", subject,
                      std::to_string(c.extra_count) +
                          " serial(s) on the CRL are not revoked in "
                          "the database, e.g. " +
                          c.extra_serials[0]);
  }
  return c;
}

// The generation whose key signed the CRL: by AKI, or by issuer name when
// the CRL has no AKI. Newest generation first.
std::optional<CaGenerationRecord> SigningGeneration(
    const CrlView& view, const std::vector<CaGenerationRecord>& gens,
    UniquePtr<X509>& cert_out) {
  for (auto it = gens.rbegin(); it != gens.rend(); ++it) {
    auto cert = ParseCertificatePem(it->cert_pem);
    if (!cert.ok()) continue;
    bool match = false;
    if (!view.authority_key_id().empty()) {
      auto aki = CrlAuthorityKeyId(cert->get());
      match = aki.ok() && *aki == view.authority_key_id();
    } else {
      match = SubjectOf(cert->get()) == view.issuer();
    }
    if (match) {
      cert_out = std::move(cert).value();
      return *it;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view CrlVerdictName(CrlVerdict verdict) {
  switch (verdict) {
    case CrlVerdict::kOk:
      return "ok";
    case CrlVerdict::kMissing:
      return "missing";
    case CrlVerdict::kCorrupt:
      return "corrupt";
    case CrlVerdict::kBadSignature:
      return "bad_signature";
    case CrlVerdict::kStale:
      return "stale";
    case CrlVerdict::kCountMismatch:
      return "count_mismatch";
  }
  return "unknown";
}

Result<CrlStatus> DescribeCrls(OpContext& ctx, const std::string& issuer, int events,
                               OpReport& report) {
  report.operation = "crl.status";
  report.target = issuer.empty() ? "*" : issuer;
  if (events < 0) return Status::InvalidArgument("events must be >= 0");
  std::vector<std::string> ids;
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
    if (!issuer.empty()) {
      ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
      if (!found) return Status::NotFound("unknown issuer " + issuer);
      ids.push_back(issuer);
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(auto all, IssuerRepo::List(tx));
    for (const auto& i : all) ids.push_back(i.id);
    return Status::Ok();
  }));
  CrlStatus status;
  for (const auto& id : ids) {
    IssuerCrlStatus entry{id, {}};
    RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(auto gens,
                       crl_internal::PublishingGenerations(tx, id, ctx.clock.Now()));
      for (const auto& gen : gens) {
        ASSIGN_OR_RETURN(auto g, DescribeGeneration(ctx, tx, gen, events, report));
        entry.generations.push_back(std::move(g));
      }
      return Status::Ok();
    }));
    status.issuers.push_back(std::move(entry));
  }
  return status;
}

Result<FetchedCrlVerified> VerifyFetchedCrl(OpContext& ctx, const std::string& issuer,
                                            const std::string& url,
                                            const std::string& der, OpReport& report) {
  report.operation = "crl.verify";
  report.target = issuer;
  FetchedCrlVerified result{issuer, url, static_cast<int64_t>(der.size()), {}, {}, {}};
  ASSIGN_OR_RETURN(auto gens,
                   ctx.db.Query<std::vector<CaGenerationRecord>>(
                       [&](Transaction& tx) -> Result<std::vector<CaGenerationRecord>> {
                         ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
                         if (!found) return Status::NotFound("unknown issuer " + issuer);
                         return IssuerRepo::Generations(tx, issuer);
                       }));
  auto view = CrlView::Parse(der);
  if (!view.ok()) {
    report.AddFinding("error", "crl.unparseable", issuer, view.status().message());
    return result;
  }
  result.contents = CrlContents{view->crl_number(), view->this_update(),
                                view->next_update(), view->entry_count()};
  if (!view->next_update() || *view->next_update() <= ctx.clock.Now()) {
    report.AddFinding(
        "error", "crl.expired", issuer,
        view->next_update()
            ? "nextUpdate " + FormatRfc3339(*view->next_update()) + " has passed"
            : "the CRL has no nextUpdate");
  }
  UniquePtr<X509> ca;
  auto gen = SigningGeneration(*view, gens, ca);
  if (!gen) {
    report.AddFinding("error", "crl.bad_signature", issuer,
                      "the CRL (issuer " + view->issuer() +
                          ") was not issued by any CA "
                          "generation of " +
                          issuer);
    return result;
  }
  std::string subject = GenerationLabel(issuer, gen->generation);
  result.generation = gen->generation;
  if (Status s = view->VerifySignature(ca.get()); !s.ok()) {
    report.AddFinding("error", "crl.bad_signature", subject, s.message());
    return result;
  }
  report.steps.push_back(
      "signature of CRL " +
      (view->crl_number() ? std::to_string(*view->crl_number()) : std::string("null")) +
      " verified with the CA certificate of " + subject);
  ASSIGN_OR_RETURN(result.serials,
                   CompareSerials(ctx, *view, issuer, gen->generation, report));
  return result;
}

}  // namespace certctl::ops
