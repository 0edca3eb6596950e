// Private to core/src/ops: the parts of CheckRestore (restore_check.h), one
// file each: the dump and the PostgreSQL programs (restore_check_dump.cc),
// the scratch copy's schema and data (restore_check_data.cc), the material
// outside the database (restore_check_material.cc) and the comparison with
// the live side (restore_check_live.cc).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "certctl/ops/restore_check.h"
#include "store/scratch_database.h"

namespace certctl::ops::internal {

enum class DumpFormat { kCustom, kDirectory, kTar, kPlain };
std::string_view DumpFormatName(DumpFormat format);

// What `path` is: InvalidArgument when it is none of pg_dump's formats (or a
// plain dump that psql would not run safely: a meta-command other than
// \restrict, such as \connect, outside COPY data); Corruption when a plain
// dump lacks pg_dump's closing line (truncated); NotFound when missing.
Result<DumpFormat> DetectDumpFormat(const std::string& path);

// pg_restore, psql or pg_dump of the installed PostgreSQL:
// $CERTCTL_PG_BIN_DIR, else the newest /usr/lib/postgresql/<N>/bin that has
// it, else PATH. FailedPrecondition naming the package when none has it.
Result<std::string> FindPgProgram(const std::string& name);

// pg_dump of `source` in the custom format into `file`.
Status DumpDatabase(const ConnInfo& source, const std::string& file);

// Restores `path` into the (empty) database `target` names. Corruption
// carrying the program's error lines when it fails.
Status RestoreDump(const std::string& path, DumpFormat format, const ConnInfo& target);

// Where a scratch copy goes: a new database `prefix`<random> on the live
// server, or the server (and database name) of `scratch_url`; `admin` is
// where CREATE and DROP DATABASE run. InvalidArgument when it would be the
// live database (`what`, e.g. "a restore check", names the refusing command).
struct ScratchPlan {
  ConnInfo conninfo;
  ConnInfo admin;
  std::string name;
  std::string server;  // host:port, for messages
};
Result<ScratchPlan> PlanScratchDatabase(const ConnInfo& live,
                                        const std::string& scratch_url,
                                        const std::string& prefix,
                                        const std::string& what);

// A new directory `prefix`-XXXXXX under $TMPDIR (else /tmp), mode 0700.
Result<std::string> MakeScratchDirectory(const std::string& prefix);

// Row counts of the tables the runbook calls recoverable that `db` has.
Result<std::map<std::string, int64_t>> CountRecoverableRows(Database& db);

// The restored copy being checked.
struct Scratch {
  ConnInfo conninfo;  // the scratch database
  std::unique_ptr<Database> db;
};

// Phase "migrate": the dump's migrations against this binary's, then the
// pending ones applied.
Status CheckMigrations(Scratch& scratch, RestoreCheck& result, OpReport& report);
// Phase "schema": tables and columns against `reference`, a database this
// binary migrated.
Status CheckSchema(Scratch& scratch, Database& reference, RestoreCheck& result,
                   OpReport& report);
// Phase "data": row counts (beside ctx.db's), foreign keys, the audit chain.
Status CheckData(OpContext& ctx, Scratch& scratch, RestoreCheck& result,
                 OpReport& report);
// Phase "material": CA and responder key files, trust bundles, secrets.
Status CheckMaterial(OpContext& ctx, Scratch& scratch, RestoreCheck& result,
                     OpReport& report);
// Phase "live": revocations and CRL numbers of ctx.db (and of the CRLs at the
// dump's CRL URLs, with options.compare_live) against the scratch copy.
Status CheckLive(OpContext& ctx, const RestoreCheckOptions& options, Scratch& scratch,
                 RestoreCheck& result, OpReport& report);

}  // namespace certctl::ops::internal
