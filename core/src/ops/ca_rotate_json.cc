#include "certctl/ops/ca_rotate_json.h"

#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

nlohmann::json OrNull(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json ToJson(const RotationStepState& s) {
  return {{"name", s.name},
          {"state", s.state},
          {"attempts", s.attempts},
          {"begun_at", OrNull(s.begun_at)},
          {"done_at", OrNull(s.done_at)},
          {"detail", s.detail}};
}

nlohmann::json ToJson(const RotationPlan& p) {
  return {{"files", p.files}, {"rows", p.rows}, {"daemons", p.daemons}};
}

nlohmann::json ToJson(const CaRotation& r) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : r.steps) steps.push_back(ToJson(s));
  return {{"issuer", r.issuer},
          {"rotation", r.id},
          {"mode", r.mode},
          {"state", r.state},
          {"from_generation", r.from_generation},
          {"to_generation", r.to_generation},
          {"old_fingerprint", r.old_fingerprint},
          {"new_fingerprint", r.new_fingerprint},
          {"key_path", r.key_path},
          {"cert_path", r.cert_path},
          {"csr_path", r.csr_path},
          {"backup_path", r.backup_path},
          {"steps", steps},
          {"test_serials", r.test_serials},
          {"next", r.next},
          {"plan", r.plan ? ToJson(*r.plan) : nlohmann::json(nullptr)}};
}

}  // namespace certctl::ops
