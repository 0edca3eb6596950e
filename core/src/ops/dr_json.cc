#include "certctl/ops/dr_json.h"

#include "certctl/ops/audit_json.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {

nlohmann::json ToJson(const DrCheckResult& check) {
  return {{"name", check.name},
          {"profile", DrProfileName(check.profile)},
          {"status", DrStatusName(check.status)},
          {"message", check.message},
          {"fix", check.fix}};
}

nlohmann::json ToJson(const DrCheckRun& run) {
  nlohmann::json checks = nlohmann::json::array();
  nlohmann::json counts = {{"ok", 0}, {"warning", 0}, {"critical", 0}, {"unknown", 0}};
  for (const auto& c : run.checks) {
    checks.push_back(ToJson(c));
    counts[std::string(DrStatusName(c.status))] =
        counts[std::string(DrStatusName(c.status))].get<int>() + 1;
  }
  return {{"profile", DrProfileName(run.profile)},
          {"checked_at", FormatRfc3339(run.checked_at)},
          {"checks", std::move(checks)},
          {"counts", std::move(counts)},
          {"status", DrStatusName(run.worst)},
          {"recorded", run.recorded}};
}

nlohmann::json ToJson(const DrEvidenceSection& section) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : section.events) events.push_back(ToJson(e));
  return {{"name", section.name},
          {"title", section.title},
          {"actions", section.actions},
          {"limited", section.limited},
          {"events", std::move(events)}};
}

nlohmann::json ToJson(const DrReport& report) {
  nlohmann::json sections = nlohmann::json::array();
  for (const auto& s : report.sections) sections.push_back(ToJson(s));
  return {{"since", FormatRfc3339(report.since)},
          {"until", FormatRfc3339(report.until)},
          {"sections", std::move(sections)},
          {"audit_log",
           {{"intact", report.audit_log_intact},
            {"rows_checked", report.audit_rows_checked},
            {"problem", report.audit_problem ? nlohmann::json(*report.audit_problem)
                                             : nlohmann::json(nullptr)}}}};
}

nlohmann::json ToJson(const DrDrill& d) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : d.steps) {
    steps.push_back({{"name", s.name},
                     {"outcome", s.outcome},
                     {"duration_ms", s.duration.count()},
                     {"detail", s.detail}});
  }
  return {{"passed", d.passed},
          {"dump",
           {{"path", d.dump},
            {"format", d.format},
            {"bytes", d.dump_bytes},
            {"sha256", d.dump_sha256},
            {"schema_version", d.dump_schema_version},
            {"schema_version_after", d.schema_version},
            {"rows", d.rows}}},
          {"scratch",
           {{"database", d.scratch_database},
            {"server", d.scratch_server},
            {"directory", d.scratch_dir},
            {"kept", d.kept},
            {"certctld_pid", d.daemon_pid},
            {"api_url", d.api_url},
            {"pki_url", d.pki_url}}},
          {"certificate",
           {{"issuer", d.issuer},
            {"generation", d.generation},
            {"serial", d.serial},
            {"crl_number", d.crl_number},
            {"ocsp_status", d.ocsp_status}}},
          {"steps", std::move(steps)}};
}

}  // namespace certctl::ops
