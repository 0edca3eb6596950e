// Private to core/src/ops: the names of OCSP responder key files, and
// replacing a responder without ever leaving the row and its key file apart
// (responder_replace.cc; used by ocsp_responder_ops.cc).
//
// Naming: {config.ocsp_responder_key_dir}/{issuer}-g{generation}-{serial}.key
// where serial is the responder certificate's canonical (lowercase hex)
// serial. Every responder key gets a file of its own, so a new key is never
// written over the one in use: the row (ocsp_responder_certs.key_path)
// switches from the old file to the new one in one transaction, and until
// then the old responder works. Rows written before this scheme name
// {issuer}-g{generation}.key; they keep working and are retired at their
// next replacement. Issue #11 (a database identity in key file names) only
// needs to change ResponderKeyPath and IsResponderKeyName.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/ops/op.h"
#include "store/ocsp_repo.h"

namespace certctl::ops::internal {

// The key file of the responder certificate `serial` of a generation.
std::string ResponderKeyPath(const Config& config, const std::string& issuer,
                             int generation, const std::string& serial);
// What ResponderKeyPath gives for any serial, for messages ("...-g1-*.key").
std::string ResponderKeyPattern(const Config& config, const std::string& issuer,
                                int generation);
// Whether `filename` (no directory) is a responder key file name of this
// generation, in this scheme or the one before it. A hyphen in an issuer id
// can not make one generation's name match another's: the serial part must
// be hex only.
bool IsResponderKeyName(std::string_view filename, const std::string& issuer,
                        int generation);

// Removes the temporaries of interrupted writes of this generation's key
// files, whatever their age (the caller holds OcspResponderLockName(issuer),
// which every writer of those files holds), and certctl's other stale
// temporaries of the key directory (kStaleTempFileAge). Returns what it removed.
Result<std::vector<std::string>> RemoveResponderKeyTemps(const Config& config,
                                                         const std::string& issuer,
                                                         int generation);

// Retires (keeps as "<path>.bak-<stamp>", util/files.h KeepAsBackup) every
// key file that a replaced responder of this generation named, that the
// current row (`current_key_path`) does not name, and that is still there
// under a responder key name in the key directory: the one a switch just
// replaced, and one left by a run killed between its switch and its
// retirement. Call under OcspResponderLockName(issuer), after the switch
// committed. Returns {old path, backup path} pairs.
Result<std::vector<std::pair<std::string, std::string>>> RetireReplacedKeys(
    OpContext& ctx, const std::string& issuer, int generation,
    const std::string& current_key_path);

struct IssueOptions {
  std::string reason;  // the replaced row's replaced_reason in history
  // Reuse this key file (reset --keep-key) instead of making a new key.
  std::optional<std::string> keep_key_path;
  // Reset: the issuer's cached answers are deleted, and running certctld
  // told, in the switch's transaction.
  bool drop_cached_answers = false;
};

struct NewResponder {
  OcspResponderRecord record;
  std::string key_backup;  // where the replaced key file was retired, or ""
  int64_t answers_dropped = 0;
};

// Issues a responder certificate for `gen` (new ECDSA P-256 key unless
// options.keep_key_path) and makes it current. Call under
// OcspResponderLockName(gen.issuer_id). The steps, with the fail points
// (util/fail_point.h) between them:
//   1. key and certificate made in memory                  responder.locked
//   2. temporaries of interrupted writes of this generation's keys removed
//   3. one transaction: row switched, history kept, (reset) cached answers
//      deleted and NOTIFY queued              responder.switch-uncommitted
//      then, still before COMMIT, the new key file written under its own
//      name (never over a file)   responder.key-temp-written, .key-written
//   4. COMMIT                                            responder.row-switched
//   5. the replaced key file retired (RetireReplacedKeys)
//                                                     responder.old-key-retired
// Writing the key last in the transaction means a failure on the way leaves
// nothing behind; only a crash between the key write and COMMIT, or a COMMIT
// whose outcome is unknown, leaves the new key file unused. A failed switch
// is checked by reading the row back: the new key file is removed when the
// row does not name it; when the database cannot be asked it stays, unused,
// and the error names it. Failing to retire the old file is a warning
// finding, not a failure (the new responder is current by then).
Result<NewResponder> IssueResponder(OpContext& ctx, const CaGenerationRecord& gen,
                                    const IssueOptions& options, OpReport& report);

}  // namespace certctl::ops::internal
