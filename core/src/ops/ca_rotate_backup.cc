// The backup step of `ca rotate`: `ca backup`'s procedure (every generation's
// certificate and key, the responders, the trust bundles, a manifest; the
// backup recorded in ca_backups), under the CA lock the rotation holds.
#include "certctl/ops/ca_backup.h"
#include "ops/ca_rotate_internal.h"

namespace certctl::ops::rotation {

Result<std::string> BackupForRotation(OpContext& ctx, const RotationRecord& record,
                                      const std::string& dir, OpReport& report) {
  OpContext inner = ctx;
  inner.dry_run = false;
  OpReport sub;
  ASSIGN_OR_RETURN(CaBackupWritten written,
                   BackupCaHoldingLock(inner, record.issuer_id, dir, sub));
  // What the backup left out (a responder being replaced, an unreadable
  // trust bundle) is the rotation's warning too.
  for (const auto& f : sub.findings) report.findings.push_back(f);
  return std::to_string(written.manifest.files.size()) +
         " files and manifest.json, sha256 " + written.manifest_sha256.substr(0, 16) +
         "..., recorded as backup " +
         (written.backup_id ? std::to_string(*written.backup_id) : std::string("?"));
}

}  // namespace certctl::ops::rotation
