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
#include "certctl/store/certificate_repo.h"
#include "certctl/store/issuer_repo.h"
#include "certctl/util/encoding.h"
#include "certctl/util/process.h"
#include "certctl/util/time_format.h"
#include "ops/crl_internal.h"

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
  if (!view.ok()) return {"corrupt", view.status().message(), 0};
  check.entries = view->entry_count();
  if (view->crl_number() != row.crl_number) {
    check.verdict = "corrupt";
    check.detail = "the CRL's number (" +
                   (view->crl_number() ? std::to_string(*view->crl_number()) : "none") +
                   ") is not the row's crl_number " + std::to_string(row.crl_number);
    return check;
  }
  if (Status s = view->VerifySignature(ca_cert); !s.ok()) {
    check.verdict = "bad_signature";
    check.detail = s.message();
    return check;
  }
  if (!view->next_update() || *view->next_update() <= now) {
    check.verdict = "stale";
    check.detail =
        view->next_update()
            ? "nextUpdate " + FormatRfc3339(*view->next_update()) + " has passed"
            : "the CRL has no nextUpdate";
    return check;
  }
  check.verdict = "ok";
  return check;
}

CachedCrlCheck CheckCachedCrl(const CrlCacheRecord& row, const CaGenerationRecord& gen,
                              TimePoint now) {
  auto cert = ParseCertificatePem(gen.cert_pem);
  if (!cert.ok())
    return {"bad_signature",
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

std::string Subject(const std::string& issuer, int generation) {
  return issuer + "/g" + std::to_string(generation);
}

nlohmann::json CacheJson(const CrlCacheRecord& row) {
  return {{"size", row.size},
          {"crl_number", row.crl_number},
          {"this_update", FormatRfc3339(row.this_update)},
          {"next_update", FormatRfc3339(row.next_update)},
          {"generated_at", FormatRfc3339(row.generated_at)},
          {"duration_ms", row.generation_duration_ms},
          {"revoked_count", row.revoked_count}};
}

nlohmann::json EventJson(const CrlGenerationEvent& e) {
  auto optional = [](const std::optional<int64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"started_at", FormatRfc3339(e.started_at)},
          {"succeeded", e.succeeded},
          {"error", e.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.error)},
          {"duration_ms", e.duration_ms},
          {"revoked_count", optional(e.revoked_count)},
          {"crl_number", optional(e.crl_number)},
          {"crl_size", optional(e.crl_size)},
          {"trigger", e.trigger},
          {"runner", e.runner}};
}

std::string Runner() { return HostName() + ":" + std::to_string(::getpid()); }

}  // namespace crl_internal

namespace {

using crl_internal::Subject;

// The verdict of one generation with its JSON, from one transaction.
Result<nlohmann::json> DescribeGeneration(OpContext& ctx, Transaction& tx,
                                          const CaGenerationRecord& gen, int events,
                                          OpReport& report) {
  ASSIGN_OR_RETURN(auto row, CrlRepo::Find(tx, gen.issuer_id, gen.generation));
  ASSIGN_OR_RETURN(int64_t db_count,
                   RevocationRepo::CountForGeneration(tx, gen.issuer_id, gen.generation));
  ASSIGN_OR_RETURN(auto recent,
                   CrlEventRepo::Recent(tx, gen.issuer_id, gen.generation, events));
  crl_internal::CachedCrlCheck check{"missing", "no CRL is cached", 0};
  if (row) {
    check = crl_internal::CheckCachedCrl(*row, gen, ctx.clock.Now());
    if (check.ok() && (check.entries != db_count || row->revoked_count != db_count)) {
      check.verdict = "count_mismatch";
      check.detail = "the cached CRL lists " + std::to_string(check.entries) +
                     " revocations (row says " + std::to_string(row->revoked_count) +
                     "), the database has " + std::to_string(db_count);
    }
  }
  if (!check.ok()) {
    report.AddFinding("error", "crl." + check.verdict,
                      Subject(gen.issuer_id, gen.generation), check.detail);
  }
  nlohmann::json j = {
      {"generation", gen.generation},
      {"state", gen.state == GenerationState::kActive ? "active" : "retired"},
      {"verdict", check.verdict},
      {"detail", check.detail},
      {"cache", row ? crl_internal::CacheJson(*row) : nlohmann::json(nullptr)},
      {"database_revoked_count", db_count},
      {"events", nlohmann::json::array()}};
  for (const auto& e : recent) j["events"].push_back(crl_internal::EventJson(e));
  return j;
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
Status CompareSerials(OpContext& ctx, const CrlView& view, const std::string& issuer,
                      int generation, OpReport& report) {
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
  nlohmann::json extra = nlohmann::json::array(), missing = nlohmann::json::array();
  int64_t extra_count = 0, missing_count = 0;
  RETURN_IF_ERROR(view.ForEachEntry([&](const CrlEntry& e) {
    SerialKey k = KeyOf(e.serial);
    auto it = std::lower_bound(revoked.begin(), revoked.end(), k);
    if (it != revoked.end() && *it == k) {
      listed[static_cast<size_t>(it - revoked.begin())] = true;
    } else if (++extra_count <= static_cast<int64_t>(kListedSerials)) {
      extra.push_back(e.serial);
    }
    return Status::Ok();
  }));
  for (size_t i = 0; i < revoked.size(); ++i) {
    if (listed[i]) continue;
    if (++missing_count <= static_cast<int64_t>(kListedSerials))
      missing.push_back(SerialOf(revoked[i]));
  }
  std::string subject = Subject(issuer, generation);
  report.data["database_revoked_count"] = revoked.size();
  report.data["missing_serials"] = missing;
  report.data["missing_count"] = missing_count;
  report.data["extra_serials"] = extra;
  report.data["extra_count"] = extra_count;
  if (missing_count > 0) {
    report.AddFinding("error", "crl.missing_serials", subject,
                      std::to_string(missing_count) +
                          " revoked certificate(s) are not on the "
                          "CRL, e.g. " +
                          missing[0].get<std::string>());
  }
  if (extra_count > 0) {
    report.AddFinding("error", "crl.extra_serials", subject,
                      std::to_string(extra_count) +
                          " serial(s) on the CRL are not revoked in "
                          "the database, e.g. " +
                          extra[0].get<std::string>());
  }
  return Status::Ok();
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

Status DescribeCrls(OpContext& ctx, const std::string& issuer, int events,
                    OpReport& report) {
  report.operation = "crl.status";
  report.target = issuer.empty() ? "*" : issuer;
  if (events < 0) return report.status = Status::InvalidArgument("events must be >= 0");
  report.data = {{"issuers", nlohmann::json::array()}};
  std::vector<std::string> ids;
  Status s = ctx.db.Run([&](Transaction& tx) -> Status {
    if (!issuer.empty()) {
      ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
      if (!found) return Status::NotFound("unknown issuer " + issuer);
      ids.push_back(issuer);
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(auto all, IssuerRepo::List(tx));
    for (const auto& i : all) ids.push_back(i.id);
    return Status::Ok();
  });
  if (!s.ok()) return report.status = s;
  for (const auto& id : ids) {
    nlohmann::json entry = {{"issuer", id}, {"generations", nlohmann::json::array()}};
    s = ctx.db.Run([&](Transaction& tx) -> Status {
      ASSIGN_OR_RETURN(auto gens,
                       crl_internal::PublishingGenerations(tx, id, ctx.clock.Now()));
      for (const auto& gen : gens) {
        ASSIGN_OR_RETURN(auto j, DescribeGeneration(ctx, tx, gen, events, report));
        entry["generations"].push_back(std::move(j));
      }
      return Status::Ok();
    });
    if (!s.ok()) return report.status = s;
    report.data["issuers"].push_back(std::move(entry));
  }
  return report.status = Status::Ok();
}

Status VerifyFetchedCrl(OpContext& ctx, const std::string& issuer, const std::string& der,
                        OpReport& report) {
  report.operation = "crl.verify";
  report.target = issuer;
  report.data = {{"issuer", issuer}, {"size", der.size()}};
  auto gens = ctx.db.Query<std::vector<CaGenerationRecord>>(
      [&](Transaction& tx) -> Result<std::vector<CaGenerationRecord>> {
        ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
        if (!found) return Status::NotFound("unknown issuer " + issuer);
        return IssuerRepo::Generations(tx, issuer);
      });
  if (!gens.ok()) return report.status = gens.status();
  auto view = CrlView::Parse(der);
  if (!view.ok()) {
    report.AddFinding("error", "crl.unparseable", issuer, view.status().message());
    return report.status = Status::Ok();
  }
  report.data["crl_number"] =
      view->crl_number() ? nlohmann::json(*view->crl_number()) : nullptr;
  report.data["this_update"] = FormatRfc3339(view->this_update());
  report.data["next_update"] =
      view->next_update() ? nlohmann::json(FormatRfc3339(*view->next_update())) : nullptr;
  report.data["entries"] = view->entry_count();
  if (!view->next_update() || *view->next_update() <= ctx.clock.Now()) {
    report.AddFinding(
        "error", "crl.expired", issuer,
        view->next_update()
            ? "nextUpdate " + FormatRfc3339(*view->next_update()) + " has passed"
            : "the CRL has no nextUpdate");
  }
  UniquePtr<X509> ca;
  auto gen = SigningGeneration(*view, *gens, ca);
  if (!gen) {
    report.AddFinding("error", "crl.bad_signature", issuer,
                      "the CRL (issuer " + view->issuer() +
                          ") was not issued by any CA "
                          "generation of " +
                          issuer);
    return report.status = Status::Ok();
  }
  std::string subject = Subject(issuer, gen->generation);
  report.data["generation"] = gen->generation;
  if (Status s = view->VerifySignature(ca.get()); !s.ok()) {
    report.AddFinding("error", "crl.bad_signature", subject, s.message());
    return report.status = Status::Ok();
  }
  report.steps.push_back("signature of CRL " + report.data["crl_number"].dump() +
                         " verified with the CA certificate of " + subject);
  return report.status = CompareSerials(ctx, *view, issuer, gen->generation, report);
}

}  // namespace certctl::ops
