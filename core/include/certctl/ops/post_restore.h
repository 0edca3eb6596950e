// `db post-restore`: what makes a live database restored from an older backup
// safe to serve again. JSON of the result: certctl/ops/db_json.h.
//
// A restore takes the database back to the backup's moment, but what was
// published after it is out in the world: relying parties hold CRLs with
// higher numbers and revocations the restored rows lack. Serving from the
// restored rows as they are would reuse published CRL numbers and un-revoke
// certificates (a published revocation is never undone).
//
// Where the published CRLs come from (decided in issue 11):
//  - the record beside each generation's CA key that RegenerateCrl writes
//    before it publishes a CRL (core/src/ops/crl_published.h): the last CRL
//    signed, {issuer}-g{N}.crl, and the highest number ever used,
//    {issuer}-g{N}.crl-number; neither depends on the database;
//  - CRLs the operator gives (`--crl FILE`, DER or PEM), e.g. fetched from a
//    CDN or another replica's host, or kept by a relying party.
// Each CRL counts only when its signature verifies with the CA certificate of
// one of the database's generations; that generation is the one it proves
// revocations for.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/ops/crl_ops.h"
#include "certctl/ops/db_ops.h"
#include "certctl/ops/op.h"

namespace certctl::ops {

struct PostRestoreOptions {
  // CRL files (DER or PEM) to take as published besides the recorded ones.
  std::vector<std::string> crl_files;
};

// A published CRL taken as evidence.
struct PublishedCrlSeen {
  std::string source;  // the file it was read from
  std::string issuer;
  int generation = 0;
  int64_t number = 0;
  int64_t entries = 0;
  TimePoint this_update;
};

// A revocation a published CRL lists and the restored database lacked.
struct ProvenRevocation {
  std::string issuer;
  int generation = 0;
  std::string serial;  // canonical lowercase hex
  int reason = 0;      // RFC 5280 code as the CRL gives it (0 when absent)
  TimePoint revoked_at;
  std::string source;  // the CRL file that proves it
};

// A generation's CRL number counter against what was published.
struct CrlNumberMove {
  std::string issuer;
  int generation = 0;
  int64_t counter = 0;    // the restored database's last number
  int64_t published = 0;  // the highest number used, from the evidence
  int64_t next = 0;       // the number the next CRL gets
  bool moved = false;     // the counter was behind and is (would be) raised
};

// A regenerated CRL checked against what was published before.
struct RegeneratedCrlCheck {
  std::string issuer;
  int generation = 0;
  int64_t number = 0;
  int64_t entries = 0;
  int64_t highest_published = 0;
  std::vector<std::string> missing_serials;  // published, not listed again
  bool ok() const { return missing_serials.empty() && number > highest_published; }
};

struct DatabasePostRestore {
  DatabaseMigrated migrated;  // the migrations applied (dry run: would be)
  std::vector<PublishedCrlSeen> published;
  // Re-applied (dry run: would be), in CRL order per generation.
  std::vector<ProvenRevocation> reapplied;
  // Listed by a published CRL, but the restored database has no such
  // certificate (issued after the backup): it can not be revoked again here.
  std::vector<ProvenRevocation> unknown_certificates;
  std::vector<CrlNumberMove> crl_numbers;
  int64_t crl_cache_rows_deleted = 0;   // 0 in a dry run
  int64_t ocsp_cache_rows_deleted = 0;  // 0 in a dry run
  std::vector<CrlRegenerated> regenerated;
  std::vector<RegeneratedCrlCheck> checks;  // empty in a dry run
};

// One audited step under the locks "db:post-restore" and, for every issuer,
// CrlLockName and OcspCacheLockName (Busy naming the holder, exit 75):
//  1. reads and verifies the published CRLs (above); an operator file that is
//     not a CRL or matches no generation is InvalidArgument before anything
//     changes; a recorded file that does not verify is an error finding
//     "post_restore.published_crl_unusable" (its number file still counts);
//  2. applies pending migrations (MigrateDatabase, audited on its own);
//  3. in one transaction: inserts every revocation a published CRL lists and
//     the database lacks (reason and date from the CRL; revoked_by
//     "<actor> (db post-restore)"), raises each generation's CRL number
//     counter to the highest number published (never lowers it), deletes
//     every cached CRL and OCSP answer, bumps each issuer's revocation epoch
//     and NOTIFYs "all", so running certctld drop what they hold;
//  4. regenerates the CRL of every generation that publishes one (as `crl
//     regenerate` does) and checks that each lists every serial the published
//     CRLs of its generation listed, with a higher number: an error finding
//     "post_restore.revocation_missing" otherwise.
// Serials a published CRL lists whose certificate the restored database does
// not hold are error findings "post_restore.unknown_certificate" (they can
// not be revoked again without the certificate; the check of step 4 fails
// for them too). A revocation the database holds with another reason is a
// warning finding "post_restore.reason_differs" and is left as it is.
// Dry run: steps 1-4 planned from reads; `reapplied` and `crl_numbers` say
// exactly what would change; nothing is written. Unavailable when the
// database is down.
Result<DatabasePostRestore> PostRestore(OpContext& ctx, const PostRestoreOptions& options,
                                        OpReport& report);

std::string PostRestoreLockName();  // "db:post-restore"

}  // namespace certctl::ops
