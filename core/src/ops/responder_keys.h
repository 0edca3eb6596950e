// Private to core/src/ops: the names of OCSP responder key files, and
// replacing a responder without ever leaving the row and its key file apart
// (responder_replace.cc; used by ocsp_responder_ops.cc).
//
// Naming: {config.ocsp_responder_key_dir}/{issuer}-g{generation}-{serial}.db-{id}.key
// where serial is the responder certificate's canonical (lowercase hex)
// serial and id this database's identity (store/database_identity_repo.h,
// migrations/0007). Every responder key gets a file of its own, so a new key
// is never written over the one in use: the row (ocsp_responder_certs.key_path)
// switches from the old file to the new one in one transaction, and until
// then the old responder works.
//
// A database writes, retires and reuses (--keep-key) only files whose name
// carries its own identity (CheckKeyFileOwned), so a restored copy of
// production on the same host, whose rows name production's files, can not
// touch them: it makes files of its own. Files of the schemes before
// ({issuer}-g{generation}.key and {issuer}-g{generation}-{serial}.key) carry
// no identity: rows naming them keep working, and they are left in place
// when replaced (they may be another database's too).
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

// The key file of the responder certificate `serial` of a generation, written
// by the database whose identity is `database_id`.
std::string ResponderKeyPath(const Config& config, const std::string& issuer,
                             int generation, const std::string& serial,
                             const std::string& database_id);
// What ResponderKeyPath gives for any serial and database, for messages
// ("...-g1-*.db-*.key").
std::string ResponderKeyPattern(const Config& config, const std::string& issuer,
                                int generation);
// Whether `filename` (no directory) is a responder key file name of this
// generation, in this scheme or one before it. A hyphen in an issuer id can
// not make one generation's name match another's: the serial part must be
// hex only.
bool IsResponderKeyName(std::string_view filename, const std::string& issuer,
                        int generation);
// The database identity a key file name carries; nullopt for names of the
// schemes before (and for anything that is not a responder key name).
std::optional<std::string> KeyNameDatabaseId(std::string_view filename);
// OK when `path`'s name carries `database_id`: the check before every write,
// retirement or reuse of a responder key file. FailedPrecondition naming the
// path, the identity it carries (or that it carries none) and this database's.
Status CheckKeyFileOwned(const std::string& path, const std::string& database_id);
// This database's identity (replaced first when the database is a copy; the
// replacement is logged and, when `report` is given, a step). In a dry run
// nothing is replaced: a copy gets "----------------", which no file carries.
Result<std::string> ThisDatabaseId(OpContext& ctx, OpReport* report);

// Removes the temporaries of interrupted writes of this generation's key
// files of this database (or of no database: the schemes before), whatever
// their age (the caller holds OcspResponderLockName(issuer), which every
// writer of those files holds), and certctl's other stale temporaries of the
// key directory (kStaleTempFileAge). Returns what it removed.
Result<std::vector<std::string>> RemoveResponderKeyTemps(const Config& config,
                                                         const std::string& issuer,
                                                         int generation,
                                                         const std::string& database_id);

// Retires (keeps as "<path>.bak-<stamp>", util/files.h KeepAsBackup) every
// key file that a replaced responder of this generation named, that the
// current row (`current_key_path`) does not name, that is still there under
// a responder key name in the key directory, and whose name carries
// `database_id`: the one a switch just replaced, and one left by a run killed
// between its switch and its retirement. Files that pass all but the last
// test are left in place and named in `left_alone`. Call under
// OcspResponderLockName(issuer), after the switch committed. Returns {old
// path, backup path} pairs.
struct RetiredKeys {
  std::vector<std::pair<std::string, std::string>> retired;
  std::vector<std::string> left_alone;  // another database's, or of no database
};
Result<RetiredKeys> RetireReplacedKeys(OpContext& ctx, const std::string& issuer,
                                       int generation,
                                       const std::string& current_key_path,
                                       const std::string& database_id);

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
  std::string database_id;  // this database's identity, which the key file carries
  std::string key_backup;   // where the replaced key file was retired, or ""
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
