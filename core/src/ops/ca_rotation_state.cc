#include "ops/ca_rotation_state.h"

#include "certctl/util/time_format.h"
#include "store/rotation_repo.h"

namespace certctl::ops::internal {

Result<std::optional<UnfinishedRotation>> FindUnfinishedRotation(
    Transaction& tx, const std::string& issuer) {
  ASSIGN_OR_RETURN(auto rotation, RotationRepo::FindUnfinished(tx, issuer));
  if (!rotation) return std::optional<UnfinishedRotation>();
  ASSIGN_OR_RETURN(auto steps, RotationRepo::Steps(tx, rotation->id));
  UnfinishedRotation r;
  r.id = rotation->id;
  r.from_generation = rotation->from_generation;
  r.to_generation = rotation->to_generation;
  r.mode = rotation->mode;
  r.started_at = rotation->started_at;
  r.started_by = rotation->started_by;
  // The last step the journal recorded, and whether it was done.
  r.step = "its start";
  for (const auto& s : steps) {
    r.step = s.step + (s.done_at ? "" : " (interrupted)");
  }
  if (rotation->state == "awaiting-signature")
    r.step += ", awaiting its signed certificate";
  return std::optional<UnfinishedRotation>(std::move(r));
}

std::string DescribeUnfinishedRotation(const std::string& issuer,
                                       const UnfinishedRotation& r) {
  std::string to = r.to_generation ? "g" + std::to_string(*r.to_generation) : "new";
  return "rotation " + std::to_string(r.id) + " (" + r.mode + ", g" +
         std::to_string(r.from_generation) + " -> " + to + ") of " + issuer +
         " started " + FormatRfc3339(r.started_at) + " by " + r.started_by +
         " stopped after " + r.step +
         (r.state == "awaiting-signature"
              ? ", waiting for its CSR to be signed; run `certctl-admin ca rotate " +
                    issuer + " --import-signed CERT` to finish it or `--abort` to go back"
              : "; run `certctl-admin ca rotate " + issuer +
                    " --resume` to finish it or `--abort` to go back");
}

}  // namespace certctl::ops::internal
