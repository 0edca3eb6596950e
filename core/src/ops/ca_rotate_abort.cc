// `ca rotate --abort`: back to the generation that was active before the
// rotation, deleting nothing.
#include "ops/ca_rotate_internal.h"
#include "store/invalidation.h"
#include "store/issuer_repo.h"

namespace certctl::ops::rotation {
namespace {

// One transaction: the previous generation active again, the new one (when
// registered) retired, certctld told, the rotation recorded as aborted.
Status SwitchBack(OpContext& ctx, RotationRecord& record, std::string& what) {
  const std::string& issuer = record.issuer_id;
  int from = record.from_generation, to = record.to_generation;
  return ctx.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto fresh, RotationRepo::FindUnfinished(tx, issuer));
    if (!fresh || fresh->id != record.id) {
      return Status::FailedPrecondition(Describe(record) + " is no longer unfinished");
    }
    RETURN_IF_ERROR(RotationRepo::BeginStep(tx, record.id, 100, "abort"));
    ASSIGN_OR_RETURN(auto added, IssuerRepo::FindGeneration(tx, issuer, to));
    what = "generation " + std::to_string(to) + " was never registered";
    if (added && added->state == GenerationState::kActive) {
      RETURN_IF_ERROR(IssuerRepo::ChangeGenerationState(
          tx, issuer, to, GenerationState::kActive, GenerationState::kRetired));
      RETURN_IF_ERROR(IssuerRepo::ChangeGenerationState(
          tx, issuer, from, GenerationState::kRetired, GenerationState::kActive));
      what = "generation " + std::to_string(from) + " is active again; generation " +
             std::to_string(to) + " is retired and keeps serving what it issued";
    } else if (added && added->state == GenerationState::kPending) {
      RETURN_IF_ERROR(IssuerRepo::ChangeGenerationState(
          tx, issuer, to, GenerationState::kPending, GenerationState::kRetired));
      what = "generation " + std::to_string(to) +
             " never issued and is retired; generation " + std::to_string(from) +
             " stayed active";
    }
    RETURN_IF_ERROR(InvalidationRepo::Notify(tx, {"all", issuer, ""}));
    record.state = "aborted";
    RETURN_IF_ERROR(RotationRepo::Update(tx, record));
    return RotationRepo::FinishStep(tx, record.id, "abort", what);
  });
}

}  // namespace

Status AbortRotation(OpContext& ctx, RotationRecord& record, OpReport& report) {
  // Test certificates first: once the new generation is retired they still
  // belong to it, and nothing a rotation issued stays unrevoked.
  ASSIGN_OR_RETURN(int revoked, RevokeTestCertificates(ctx, record));
  if (revoked > 0) {
    report.steps.push_back("revoked " + std::to_string(revoked) +
                           " test certificate(s) of generation " +
                           std::to_string(record.to_generation));
  }
  ASSIGN_OR_RETURN(auto temps, RemoveInterruptedWrites(record));
  for (const auto& file : temps) {
    report.steps.push_back("removed " + file + ", left behind by an interrupted write");
  }
  std::string what;
  RETURN_IF_ERROR(SwitchBack(ctx, record, what));
  report.steps.push_back(what + "; running certctld processes were notified");
  // The generation that issues again must be able to: its key is checked
  // the way issuance loads it.
  auto active = ctx.db.Query<std::optional<CaGenerationRecord>>([&](Transaction& tx) {
    return IssuerRepo::ActiveGeneration(tx, record.issuer_id);
  });
  if (!active.ok()) return active.status();
  if (!*active) return Status::Internal("no active generation after the abort");
  auto loaded = ctx.keyring.Get(**active);
  if (!loaded.ok()) {
    report.AddFinding("error", "ca.key_unusable",
                      record.issuer_id + "/g" + std::to_string((*active)->generation),
                      loaded.status().ToString());
  }
  std::string kept =
      record.key_path +
      (record.mode == "sub-ca" && !record.csr_path.empty() ? ", " + record.csr_path : "");
  report.steps.push_back("aborted " + Describe(record) + "; no file was deleted (" +
                         kept +
                         (record.backup_path.empty() ? "" : ", " + record.backup_path) +
                         " stay where they are)");
  return Status::Ok();
}

}  // namespace certctl::ops::rotation
