#include "certctl/ops/config_check_json.h"

namespace certctl::ops {

nlohmann::json ToJson(const StartupCheck& check) {
  return {{"name", check.name},
          {"subject", check.subject},
          {"state", StartupCheckStateName(check.state)},
          {"message", check.message}};
}

nlohmann::json ToJson(const ConfigChecked& result) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : result.checks) checks.push_back(ToJson(c));
  return {{"config_file", result.config_file},
          {"checks", std::move(checks)},
          {"would_start", result.would_start}};
}

}  // namespace certctl::ops
