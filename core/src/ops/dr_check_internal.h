// Private to core/src/ops: the checks of `dr check` (certctl/ops/dr_check.h),
// one function per check, sharing what they read through DrInputs.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "certctl/ops/ca_status.h"
#include "certctl/ops/dr_check.h"
#include "certctl/ops/ocsp_ops.h"

namespace certctl::ops::internal {

// What the checks share: the context, the thresholds, one `now`, and what
// more than one check reads (read once, on first use).
class DrInputs {
 public:
  DrInputs(OpContext& ctx, const DrThresholds& thresholds)
      : ctx(ctx), t(thresholds), now(ctx.clock.Now()) {}
  OpContext& ctx;
  const DrThresholds& t;
  const TimePoint now;
  // The salted fingerprints this run records (see dr_secrets.cc), by secret.
  nlohmann::json secrets = nlohmann::json::object();

  // `ca status` of every issuer (its findings dropped: the checks judge).
  const Result<CaStatus>& Ca();
  // `ocsp status` of `issuer`.
  const Result<ResponderStatus>& Responders(const std::string& issuer);

 private:
  std::optional<Result<CaStatus>> ca_;
  std::map<std::string, Result<ResponderStatus>> responders_;
};

// A result without its name and profile (the driver sets them).
DrCheckResult Outcome(DrStatus status, std::string message, std::string fix = "");
// The worse of two statuses: critical > warning > unknown > ok.
DrStatus Worse(DrStatus a, DrStatus b);
// "3d 4h" style age for messages.
std::string Age(std::chrono::seconds age);

// dr_check_backups.cc: the database backups in thresholds.backup_dir.
DrCheckResult CheckDatabaseBackupAge(DrInputs& in);
DrCheckResult CheckDatabaseBackupRetention(DrInputs& in);
DrCheckResult CheckDatabaseBackupReadable(DrInputs& in);
// The newest backup in `dir` (by modification time, as the checks judge
// them): NotFound when the directory cannot be read or holds none.
Result<std::string> NewestBackup(const std::string& dir);

// dr_check_material.cc: CA material, responders, CRLs, cache, locks.
DrCheckResult CheckCaBackup(DrInputs& in);
DrCheckResult CheckResponderKeysBackup(DrInputs& in);
DrCheckResult CheckTrustAnchorsBackup(DrInputs& in);
DrCheckResult CheckCaNotAfter(DrInputs& in);
DrCheckResult CheckResponderRotated(DrInputs& in);
DrCheckResult CheckResponderExpiry(DrInputs& in);
DrCheckResult CheckCrlsFresh(DrInputs& in);
DrCheckResult CheckOcspCache(DrInputs& in);
DrCheckResult CheckOperationLocks(DrInputs& in);

// dr_check.cc: evidence in the audit log.
DrCheckResult CheckRestoreCheckRecent(DrInputs& in);
DrCheckResult CheckDrillRecent(DrInputs& in);

// dr_secrets.cc: the secrets' fingerprints.
// Fills in.secrets from the configured secrets and the previous run's record
// (`previous`: the "secrets" parameter of the newest dr.check event, or null).
void FingerprintSecrets(DrInputs& in, const nlohmann::json& previous);
DrCheckResult CheckApiKeys(DrInputs& in);
DrCheckResult CheckBootstrapToken(DrInputs& in);

}  // namespace certctl::ops::internal
