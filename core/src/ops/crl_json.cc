#include "certctl/ops/crl_json.h"

#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

nlohmann::json OrNull(const std::optional<int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json OrNull(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json ToJson(const CrlGenerationStatus& g);
nlohmann::json ToJson(const IssuerCrlStatus& i);

template <typename T>
nlohmann::json List(const std::vector<T>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(ToJson(item));
  return out;
}

nlohmann::json ToJson(const CrlGenerationStatus& g) {
  return {{"generation", g.generation},
          {"state", std::string(GenerationStateName(g.state))},
          {"verdict", std::string(CrlVerdictName(g.verdict))},
          {"detail", g.detail},
          {"cache", g.cache ? ToJson(*g.cache) : nlohmann::json(nullptr)},
          {"database_revoked_count", g.database_revoked_count},
          {"events", List(g.events)}};
}

nlohmann::json ToJson(const IssuerCrlStatus& i) {
  return {{"issuer", i.issuer}, {"generations", List(i.generations)}};
}

}  // namespace

nlohmann::json ToJson(const CrlRegenerated& c) {
  return {{"generation", c.generation},
          {"crl_number", c.number},
          {"size", c.der_size},
          {"revoked_count", c.revoked},
          {"this_update", FormatRfc3339(c.this_update)},
          {"next_update", FormatRfc3339(c.next_update)},
          {"duration_ms", c.duration.count()}};
}

nlohmann::json ToJson(const PlannedCrl& p) {
  return {{"generation", p.generation},
          {"crl_number", p.number},
          {"revoked_count", p.revoked}};
}

nlohmann::json ToJson(const CrlRegeneration& r) {
  nlohmann::json j = {{"issuer", r.issuer}, {"crls", List(r.crls)}};
  if (r.planned) j["planned"] = List(*r.planned);
  return j;
}

nlohmann::json ToJson(const CachedCrlCount& c) {
  return {{"cached_crls", c.cached_crls}};
}

nlohmann::json ToJson(const CrlCacheInvalidated& r) {
  return {{"issuer", r.issuer},
          {"rows_deleted", r.rows_deleted},
          {"rows_to_delete", r.rows_to_delete},
          {"next_fetch", r.next_fetch}};
}

nlohmann::json ToJson(const CachedCrlSummary& c) {
  return {{"size", c.size},
          {"crl_number", c.crl_number},
          {"this_update", FormatRfc3339(c.this_update)},
          {"next_update", FormatRfc3339(c.next_update)},
          {"generated_at", FormatRfc3339(c.generated_at)},
          {"duration_ms", c.duration.count()},
          {"revoked_count", c.revoked_count}};
}

nlohmann::json ToJson(const CrlGenerationAttempt& e) {
  return {{"started_at", FormatRfc3339(e.started_at)},
          {"succeeded", e.succeeded},
          {"error", e.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.error)},
          {"duration_ms", e.duration.count()},
          {"revoked_count", OrNull(e.revoked_count)},
          {"crl_number", OrNull(e.crl_number)},
          {"crl_size", OrNull(e.crl_size)},
          {"trigger", e.trigger},
          {"runner", e.runner}};
}

nlohmann::json ToJson(const CrlStatus& s) { return {{"issuers", List(s.issuers)}}; }

nlohmann::json ToJson(const FetchedCrlVerified& r) {
  nlohmann::json j = {{"issuer", r.issuer}, {"size", r.size}};
  if (!r.url.empty()) j["url"] = r.url;
  if (r.contents) {
    j["crl_number"] = OrNull(r.contents->crl_number);
    j["this_update"] = FormatRfc3339(r.contents->this_update);
    j["next_update"] = OrNull(r.contents->next_update);
    j["entries"] = r.contents->entries;
  }
  if (r.generation) j["generation"] = *r.generation;
  if (r.serials) {
    j["database_revoked_count"] = r.serials->database_revoked_count;
    j["missing_serials"] = r.serials->missing_serials;
    j["missing_count"] = r.serials->missing_count;
    j["extra_serials"] = r.serials->extra_serials;
    j["extra_count"] = r.serials->extra_count;
  }
  return j;
}

}  // namespace certctl::ops
