// `db restore-check`: would restoring this backup give a working certctl?
//
// The backup (a pg_dump archive, or a database dumped first with pg_dump) is
// restored into a scratch database that the check creates (on the configured
// server unless told another) and drops afterwards; the live database and
// every key file are only read. Then, phase by phase:
//   restore   pg_restore (custom, directory, tar) or psql (plain SQL) of the
//             installed PostgreSQL, run without a shell, the password (if
//             any) in the child's environment, never its argv;
//   migrate   the dump's migrations against this binary's (versions,
//             checksums), then the pending ones applied in the scratch copy;
//   schema    its tables and columns against a fresh database migrated by
//             this binary: missing and extra tables;
//   data      row counts (beside the live database's), foreign keys, the
//             audit hash chain (with the configured audit key);
//   material  what is not in the database (the runbook's "NOT in DB" list):
//             the configured CA pair is a generation of the dump and each
//             generation's key file holds its key; each responder row's key
//             file exists and matches its certificate; trust bundles parse;
//             CERTCTL_CONFIG_ENCRYPTION_KEY opens the dump's key-check value;
//             the API key and bootstrap token are configured;
//   live      against the live database (and with compare_live, the CRLs
//             served at the dump's CRL URLs): revocations made after the
//             backup, which the restore would drop, and CRL numbers it would
//             use again.
// Key files are opened for reading only. The verdict follows the findings:
// an error makes the restore unusable, a warning usable with warnings.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/net/http_client.h"
#include "certctl/ops/db_ops.h"
#include "certctl/ops/op.h"

namespace certctl::ops {

struct RestoreCheckOptions {
  std::string dump_path;      // --dump: custom, directory, tar or plain format
  std::string from_database;  // --from-database: a URL to pg_dump first
  // --scratch-url: the server (and, when it names one, the new database's
  // name) to restore into; empty: a new database on the configured server.
  std::string scratch_url;
  bool keep = false;  // --keep: leave the scratch database and directory
  // --compare-live: also fetch the CRL at each generation's CRL URL (from
  // the dump's certificates) with `http` and compare it with the dump.
  bool compare_live = false;
  const net::HttpClient* http = nullptr;  // required when compare_live
};

enum class RestoreVerdict { kUsable, kUsableWithWarnings, kUnusable };
// "usable", "usable-with-warnings", "unusable".
std::string_view RestoreVerdictName(RestoreVerdict verdict);

struct RestorePhase {
  std::string name;     // "restore", "migrate", "schema", "data", ...
  std::string outcome;  // "ok", "warning", "error" or "skipped"
  std::chrono::milliseconds duration{0};
};

struct RestoredTable {
  std::string name;
  int64_t rows = 0;
  std::optional<int64_t> live_rows;  // unset when the live table is missing
};

struct RestoreKeyFile {
  std::string role;     // "ca" or "ocsp-responder"
  std::string subject;  // "iss-local/g1"
  std::string path;
  std::string problem;  // empty when the file holds the certificate's key
};

struct RevocationAfterBackup {
  std::string issuer;
  int generation = 0;
  std::string serial;  // canonical lowercase hex
  int reason = 0;      // RFC 5280 code
  std::string reason_name;
  TimePoint revoked_at;
  std::string seen_in;  // "live database" or the CRL URL
};

struct ReusedCrlNumbers {
  std::string issuer;
  int generation = 0;
  int64_t dump_highest = 0;  // the highest number the dump knows was used
  int64_t live_highest = 0;  // what the live side has published
  std::string seen_in;       // "live database" or the CRL URL
};

struct RestoreCheck {
  RestoreVerdict verdict = RestoreVerdict::kUnusable;
  std::vector<std::string> reasons;  // the findings' messages, errors first
  std::string source;                // the dump file, or the masked URL dumped
  std::string format;                // "custom", "directory", "tar" or "plain"
  std::string scratch_database;      // its name
  std::string scratch_server;        // host:port of the scratch database
  bool kept = false;                 // --keep: left in place
  std::string scratch_dir;           // set when kept
  int dump_schema_version = 0;
  int schema_version = 0;  // after the pending migrations
  std::vector<MigrationInfo> migrations_applied;
  std::vector<std::string> missing_tables, extra_tables;
  std::vector<RestoredTable> tables;
  int64_t foreign_key_violations = 0;
  std::optional<int64_t> audit_rows;  // checked rows; unset when not checked
  bool audit_intact = false;
  std::vector<RestoreKeyFile> key_files;
  std::string encryption_key;  // "opens", "wrong-key", "no-key", "no-check-value"
  std::vector<RevocationAfterBackup> revocations_after_backup;
  std::vector<ReusedCrlNumbers> reused_crl_numbers;
  std::vector<RestorePhase> phases;
};

// Runs the check; ctx.db is the live database (only read, but for one audit
// event "db.restore-check" recording the verdict when an audit key is
// configured). Findings (errors and warnings, codes "restore.*") carry every
// reason; the result is returned also when the verdict is unusable.
// Errors: InvalidArgument for options that do not make sense (neither or
// both of dump_path and from_database, a scratch URL naming the live
// database, a file that is not a pg_dump archive); NotFound for a missing
// dump; FailedPrecondition when pg_restore, psql or pg_dump is not installed;
// Unavailable when the scratch server cannot be reached; AlreadyExists when
// the scratch database named exists.
Result<RestoreCheck> CheckRestore(OpContext& ctx, const RestoreCheckOptions& options,
                                  OpReport& report);

}  // namespace certctl::ops
