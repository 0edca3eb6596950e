// The directories certctl writes key files to, and the clean-up of what an
// interrupted write leaves there.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/ops/op.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl::ops {

// A temporary file older than this is no longer being written by anyone (a
// key write takes milliseconds; this leaves room for a stalled disk).
inline constexpr std::chrono::seconds kStaleTempFileAge{600};

// The directories certctl writes keys to: config.ocsp_responder_key_dir and
// the directory of config.ca_key_path (when set), without duplicates.
std::vector<std::string> KeyDirectories(const Config& config);

// Removes the temporaries of interrupted atomic writes (".<name>.tmp-XXXXXX",
// see util/files.h) older than `min_age` and owned by this user from every
// KeyDirectories() entry; never a key, a backup or another program's file.
// Returns the paths removed.
Result<std::vector<std::string>> RemoveStaleKeyTempFiles(
    const Config& config, std::chrono::seconds min_age = kStaleTempFileAge);

// certctld's start-up clean-up: RemoveStaleKeyTempFiles, and the
// temporaries of `issuer`'s responder key files whatever their age when
// OcspResponderLockName(issuer) is free (it is taken for the sweep: every
// writer of those files holds it, so none is mid-write). When the lock is
// held (a reset in progress elsewhere), only stale ones go. Returns the
// paths removed. (certctl-admin's reset sweeps its generation's the same way
// before it writes, under the lock it holds anyway.)
Result<std::vector<std::string>> RemoveInterruptedKeyWrites(OpContext& ctx,
                                                            const std::string& issuer);

// A replaced responder key file, kept as "<key file>.bak-<UTC stamp>[-N]"
// (util/files.h KeepAsBackup) in config.ocsp_responder_key_dir.
struct KeyBackup {
  std::string path;
  TimePoint retired_at;  // the stamp in its name
};

struct KeyBackupsPruned {
  std::string directory;              // config.ocsp_responder_key_dir
  std::chrono::seconds retention{0};  // config.key_backup_retention
  std::vector<KeyBackup> removed;     // older than the retention (a dry run: would be)
  std::vector<KeyBackup> kept;        // younger
  std::vector<std::string> named;     // old enough, but a row names them: kept, a finding
};

// Who asks for PruneKeyBackups.
enum class PruneTrigger {
  kCommand,    // `ocsp prune-backups`: audited, also when nothing is due
  kScheduled,  // certctld's upkeep: audited only when something is due
};

// `ocsp prune-backups` and certctld's upkeep: removes the responder key
// backups older than config.key_backup_retention. Only certctl's own: a
// regular file (not a symlink) directly in the key directory named
// "<issuer>-g<N>[-<hex serial>].key.bak-<YYYYMMDDTHHMMSSZ>[-N]", aged by
// that stamp (when it was retired). Never a file that a CA generation or a
// responder row (current or in history) names as its key: that is kept and a
// warning finding "keys.backup_named". Audited ("ocsp.prune-backups"),
// locked ("ocsp-key-backups"); dry run: the plan, nothing removed.
Result<KeyBackupsPruned> PruneKeyBackups(OpContext& ctx, PruneTrigger trigger,
                                         OpReport& report);

}  // namespace certctl::ops
