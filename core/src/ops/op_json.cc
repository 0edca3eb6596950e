// The operation document of certctl-admin's --output json and certctld's API.
#include "certctl/ops/op_json.h"

namespace certctl::ops {

nlohmann::json ToJson(const Finding& f) {
  return {{"severity", f.severity},
          {"code", f.code},
          {"subject", f.subject},
          {"message", f.message}};
}

bool ReportOk(const OpReport& report, const Status& status) {
  return status.ok() && !report.has_errors();
}

nlohmann::json ErrorJson(const Status& status) {
  if (status.ok()) return nullptr;
  return {{"code", std::string(StatusCodeName(status.code()))},
          {"message", status.message()}};
}

nlohmann::json ReportJson(const OpReport& report, const Status& status,
                          const ReportJsonParts& parts) {
  nlohmann::json j;
  j["operation"] = report.operation;
  j["target"] = report.target;
  j["dry_run"] = report.dry_run;
  j["ok"] = ReportOk(report, status);
  j["error"] = ErrorJson(status);
  j["plan"] = report.plan;
  j["steps"] = report.steps;
  j["before"] = parts.before;
  j["after"] = parts.after;
  j["data"] = parts.data;
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : report.findings) findings.push_back(ToJson(f));
  j["findings"] = findings;
  j["duration_ms"] = report.duration.count();
  return j;
}

}  // namespace certctl::ops
