#include "certctl/ops/trust_json.h"

#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

nlohmann::json ProblemJson(const std::optional<TrustProblem>& problem) {
  return problem ? nlohmann::json(TrustProblemName(*problem)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json ToJson(const TrustBundleEntry& e) {
  return {{"subject", e.subject},
          {"issuer", e.issuer},
          {"serial", e.serial},
          {"fingerprint_sha256", e.fingerprint_sha256},
          {"not_before", FormatRfc3339(e.not_before)},
          {"not_after", FormatRfc3339(e.not_after)}};
}

nlohmann::json ToJson(const TrustBundleChecked& r) {
  nlohmann::json certs = nlohmann::json::array();
  for (const auto& e : r.check.entries) certs.push_back(ToJson(e));
  return {{"path", r.path},
          {"certificates", certs},
          {"problem", ProblemJson(r.check.problem)},
          {"message", r.check.message}};
}

nlohmann::json ToJson(const TrustBundleReloaded& b) {
  return {{"name", b.name},
          {"path", b.path},
          {"reloaded", b.reloaded()},
          {"problem", ProblemJson(b.problem)},
          {"message", b.message},
          {"certificates", b.certificates},
          {"fingerprint", b.fingerprint},
          {"previous_fingerprint", b.previous_fingerprint}};
}

nlohmann::json ToJson(const TrustReload& r) {
  nlohmann::json bundles = nlohmann::json::array();
  for (const auto& b : r.bundles) bundles.push_back(ToJson(b));
  return {{"bundles", bundles}};
}

}  // namespace certctl::ops
