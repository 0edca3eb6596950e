#include "certctl/ops/db_json.h"

#include "certctl/ops/crl_json.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

nlohmann::json List(const std::vector<MigrationInfo>& migrations) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : migrations) out.push_back(ToJson(m));
  return out;
}

}  // namespace

nlohmann::json ToJson(const MigrationInfo& m) {
  nlohmann::json j = {{"version", m.version}, {"name", m.name}, {"checksum", m.checksum}};
  if (m.applied_at) j["applied_at"] = FormatRfc3339(*m.applied_at);
  return j;
}

nlohmann::json ToJson(const SchemaVersion& v) { return {{"version", v.version}}; }

nlohmann::json ToJson(const DatabaseMigrated& r) {
  return {{"from_version", r.from_version},
          {"to_version", r.to_version},
          {"applied", List(r.applied)}};
}

nlohmann::json ToJson(const SchemaStatus& s) {
  if (!s.known) return nlohmann::json::object();
  return {{"current_version", s.current_version},
          {"latest_version", s.latest_version},
          {"applied", List(s.applied)},
          {"pending", List(s.pending)}};
}

nlohmann::json ToJson(const ProvenRevocation& r) {
  return {{"issuer", r.issuer},
          {"generation", r.generation},
          {"serial", r.serial},
          {"reason", std::string(RevocationReasonName(r.reason))},
          {"revoked_at", FormatRfc3339(r.revoked_at)},
          {"source", r.source}};
}

namespace {

template <typename T, typename F>
nlohmann::json Each(const std::vector<T>& items, F&& one) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(one(item));
  return out;
}

nlohmann::json PublishedJson(const PublishedCrlSeen& p) {
  return {{"source", p.source},         {"issuer", p.issuer},
          {"generation", p.generation}, {"number", p.number},
          {"entries", p.entries},       {"this_update", FormatRfc3339(p.this_update)}};
}

nlohmann::json MoveJson(const CrlNumberMove& m) {
  return {{"issuer", m.issuer},   {"generation", m.generation},
          {"counter", m.counter}, {"published", m.published},
          {"next", m.next},       {"moved", m.moved}};
}

nlohmann::json CheckJson(const RegeneratedCrlCheck& c) {
  return {{"issuer", c.issuer},
          {"generation", c.generation},
          {"number", c.number},
          {"entries", c.entries},
          {"highest_published", c.highest_published},
          {"missing_serials", c.missing_serials},
          {"ok", c.ok()}};
}

}  // namespace

nlohmann::json ToJson(const DatabasePostRestore& r) {
  auto revocation = [](const ProvenRevocation& p) { return ToJson(p); };
  return {{"migrated", ToJson(r.migrated)},
          {"published", Each(r.published, PublishedJson)},
          {"reapplied", Each(r.reapplied, revocation)},
          {"unknown_certificates", Each(r.unknown_certificates, revocation)},
          {"crl_numbers", Each(r.crl_numbers, MoveJson)},
          {"crl_cache_rows_deleted", r.crl_cache_rows_deleted},
          {"ocsp_cache_rows_deleted", r.ocsp_cache_rows_deleted},
          {"regenerated",
           Each(r.regenerated, [](const CrlRegenerated& c) { return ToJson(c); })},
          {"checks", Each(r.checks, CheckJson)}};
}

}  // namespace certctl::ops
