#include "certctl/ops/db_json.h"

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

}  // namespace certctl::ops
