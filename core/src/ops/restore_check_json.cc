#include "certctl/ops/restore_check_json.h"

#include "certctl/ops/db_json.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

template <typename T, typename F>
nlohmann::json List(const std::vector<T>& items, F&& one) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : items) out.push_back(one(i));
  return out;
}

nlohmann::json TablesJson(const std::vector<RestoredTable>& tables) {
  return List(tables, [](const RestoredTable& t) {
    return nlohmann::json{{"name", t.name},
                          {"rows", t.rows},
                          {"live_rows", t.live_rows ? nlohmann::json(*t.live_rows)
                                                    : nlohmann::json(nullptr)}};
  });
}

void AddLive(const RestoreCheck& c, nlohmann::json& out) {
  out["revocations_after_backup"] =
      List(c.revocations_after_backup, [](const RevocationAfterBackup& r) {
        return nlohmann::json{
            {"issuer", r.issuer},      {"generation", r.generation},
            {"serial", r.serial},      {"reason", r.reason_name},
            {"reason_code", r.reason}, {"revoked_at", FormatRfc3339(r.revoked_at)},
            {"seen_in", r.seen_in}};
      });
  out["reused_crl_numbers"] = List(c.reused_crl_numbers, [](const ReusedCrlNumbers& n) {
    return nlohmann::json{{"issuer", n.issuer},
                          {"generation", n.generation},
                          {"dump_highest", n.dump_highest},
                          {"live_highest", n.live_highest},
                          {"seen_in", n.seen_in}};
  });
}

}  // namespace

nlohmann::json ToJson(const RestoreCheck& c) {
  nlohmann::json out = {
      {"verdict", std::string(RestoreVerdictName(c.verdict))},
      {"reasons", c.reasons},
      {"source", c.source},
      {"format", c.format},
      {"scratch_database", c.scratch_database},
      {"scratch_server", c.scratch_server},
      {"kept", c.kept},
      {"scratch_dir", c.scratch_dir},
      {"dump_schema_version", c.dump_schema_version},
      {"schema_version", c.schema_version},
      {"migrations_applied",
       List(c.migrations_applied, [](const MigrationInfo& m) { return ToJson(m); })},
      {"missing_tables", c.missing_tables},
      {"extra_tables", c.extra_tables},
      {"tables", TablesJson(c.tables)},
      {"foreign_key_violations", c.foreign_key_violations},
      {"audit", c.audit_rows
                    ? nlohmann::json{{"rows", *c.audit_rows}, {"intact", c.audit_intact}}
                    : nlohmann::json(nullptr)},
      {"key_files", List(c.key_files,
                         [](const RestoreKeyFile& k) {
                           return nlohmann::json{{"role", k.role},
                                                 {"subject", k.subject},
                                                 {"path", k.path},
                                                 {"ok", k.problem.empty()},
                                                 {"problem", k.problem}};
                         })},
      {"encryption_key", c.encryption_key},
      {"phases", List(c.phases, [](const RestorePhase& p) {
         return nlohmann::json{{"name", p.name},
                               {"outcome", p.outcome},
                               {"duration_ms", p.duration.count()}};
       })}};
  AddLive(c, out);
  return out;
}

}  // namespace certctl::ops
