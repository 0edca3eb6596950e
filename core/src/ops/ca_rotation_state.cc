#include "ops/ca_rotation_state.h"

#include "certctl/util/time_format.h"

namespace certctl::ops::internal {

Result<std::optional<UnfinishedRotation>> FindUnfinishedRotation(
    Transaction& /*tx*/, const std::string& /*issuer*/) {
  // No rotation journal in this schema (see the header): nothing can be
  // unfinished. `ca rotate` reads its journal here.
  return std::optional<UnfinishedRotation>();
}

std::string DescribeUnfinishedRotation(const std::string& issuer,
                                       const UnfinishedRotation& r) {
  std::string to = r.to_generation ? "g" + std::to_string(*r.to_generation) : "new";
  return "rotation " + std::to_string(r.id) + " (" + r.mode + ", g" +
         std::to_string(r.from_generation) + " -> " + to + ") of " + issuer +
         " started " + FormatRfc3339(r.started_at) + " by " + r.started_by +
         " stopped after " + r.step + "; run `certctl-admin ca rotate " + issuer +
         " --resume` to finish it or `--abort` to go back";
}

}  // namespace certctl::ops::internal
