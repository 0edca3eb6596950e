// Private to core: the CA backups `ca backup` recorded (ca_backups and
// ca_backup_generations, migration 0005). Included from core/src only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certctl/store/database.h"
#include "certctl/util/clock.h"

namespace certctl {

struct CaBackupRow {
  int64_t id = 0;  // assigned by the database
  std::string issuer_id;
  std::string directory;
  std::string manifest_sha256;  // lowercase hex of manifest.json
  int file_count = 0;
  TimePoint created_at;
  std::string created_by;
  std::string host;
};

// A CA generation a backup holds.
struct CaBackupGenerationRow {
  int generation = 0;
  std::string cert_sha256;  // the certificate's fingerprint, lowercase hex
};

class CaBackupRepo {
 public:
  // Records a backup and the generations it holds; returns its id.
  static Result<int64_t> Insert(Transaction& tx, const CaBackupRow& backup,
                                const std::vector<CaBackupGenerationRow>& generations);
  // The newest backup holding `generation` of `issuer` with the certificate
  // `cert_sha256`; unset when none is recorded.
  static Result<std::optional<CaBackupRow>> NewestHolding(Transaction& tx,
                                                          const std::string& issuer,
                                                          int generation,
                                                          const std::string& cert_sha256);
  // The newest backup recorded with this manifest digest.
  static Result<std::optional<CaBackupRow>> FindByManifest(
      Transaction& tx, const std::string& manifest_sha256);
};

}  // namespace certctl
