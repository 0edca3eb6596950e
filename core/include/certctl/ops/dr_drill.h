// `certctl-admin dr drill`: the runbook's annual DR rehearsal, automated
// (shared/runbook/disaster-recovery.md, "DR checklist": "Annually: dry-run a
// full DR"). JSON of the result: certctl/ops/dr_json.h.
//
// Steps, each timed, in this order:
//   restore   the newest backup of the backup directory (or the dump given)
//             restored into a new scratch database (`db restore-check`'s
//             scratch restore: pg_restore or psql, never over existing data);
//   migrate   the pending migrations applied to the copy;
//   material  a scratch directory (0700) with copies of the configured CA
//             certificate and key, of every key file the copy's rows name
//             (CA generations, current responders; the live files are only
//             read) and their published-CRL records; the copy's rows are
//             pointed at the copies, so nothing the scratch daemon does can
//             write beside a live key; a TLS certificate for 127.0.0.1, a
//             random API key and the audit key in files (0600), never argv;
//   start     certctld started on the copy, listening on 127.0.0.1 ports the
//             kernel picks (learnt from its sd_notify READY message),
//             configured only by its environment and those files;
//   issue     a test certificate issued through its API;
//   revoke    and revoked through its API;
//   crl       the CRL it serves, verified with the restored CA certificate
//             (signature, issuer) and listing the serial;
//   ocsp      its OCSP answer for the serial: revoked, signed by a responder
//             that chains to the restored CA certificate;
//   stop      certctld stopped (SIGTERM, then SIGKILL) and reaped;
//   cleanup   the scratch database dropped and the scratch directory removed
//             (kept after a failure with keep_on_failure).
// A step that fails ends the drill (the later ones are "skipped") and is an
// error finding "dr.drill_failed"; stop and cleanup run whatever happened,
// also after SIGINT or SIGTERM (certctl/util/interrupt.h).
//
// The drill runs under RunMutation: lock "dr:drill", audit events "dr.drill"
// started and succeeded or failed (the outcome follows the drill's), which
// `dr check` (dr_drill) and `dr report` read. Dry run: report.plan says what
// would be restored and run; nothing is created.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "certctl/ops/op.h"

namespace certctl::ops {

struct DrDrillOptions {
  std::string dump_path;   // --dump; empty: the newest backup of backup_dir
  std::string backup_dir;  // --backup-dir (or dr check's thresholds file)
  // --scratch-url: the server (and database name) to restore into, as for
  // `db restore-check`; empty: a new database on the configured server.
  std::string scratch_url;
  std::string certctld_path;     // the certctld to start (an absolute path)
  bool keep_on_failure = false;  // leave the scratch database and directory
  std::chrono::milliseconds step_timeout{60000};  // start, crl: waiting limits
};

struct DrDrillStep {
  std::string name;     // "restore", "migrate", ... "cleanup"
  std::string outcome;  // "passed", "failed" or "skipped"
  std::chrono::milliseconds duration{0};
  std::string detail;  // what it did or why it failed
};

struct DrDrill {
  bool passed = false;
  // What was restored.
  std::string dump;  // the file or directory
  std::string format;
  int64_t dump_bytes = 0;
  std::string dump_sha256;  // of the file; of toc.dat for a directory
  int dump_schema_version = 0;
  int schema_version = 0;               // after the pending migrations
  std::map<std::string, int64_t> rows;  // the recoverable tables' row counts
  // Where.
  std::string scratch_database;
  std::string scratch_server;
  std::string scratch_dir;
  bool kept = false;  // keep_on_failure applied
  int daemon_pid = 0;
  std::string api_url, pki_url;
  // The test certificate and what the scratch certctld said about it.
  std::string issuer;
  int generation = 0;
  std::string serial;
  int64_t crl_number = 0;
  std::string ocsp_status;  // "revoked" when the drill passed
  std::vector<DrDrillStep> steps;
};

// Runs the drill (see above). Returns the result also when a step failed
// (then an error finding and passed = false). Errors: InvalidArgument with
// neither a dump nor a backup directory, a scratch URL naming the live
// database, a dump that is no pg_dump output; NotFound for a missing dump or
// an empty backup directory; FailedPrecondition when certctld, pg_restore or
// psql is not there or no audit key is configured; Busy when another drill
// holds the lock; Unavailable when the live database cannot be reached.
Result<DrDrill> RunDrDrill(OpContext& ctx, const DrDrillOptions& options,
                           OpReport& report);

}  // namespace certctl::ops
