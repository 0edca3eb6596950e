// certctl-admin dr drill: the annual DR rehearsal (core/ops/dr_drill.h), its
// flags, its text rendering and its documentation.
#include "certctl/ops/dr_drill.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "certctl/ops/dr_check.h"
#include "certctl/ops/dr_json.h"
#include "certctl/util/exit_codes.h"
#include "certctl/util/interrupt.h"
#include "commands.h"

namespace certctl::admin {
namespace {

namespace fs = std::filesystem;

struct DrDrillFlags {
  MutationFlags mutation;
  std::string dump;
  std::string backup_dir;
  std::string thresholds;
  std::string scratch_url;
  std::string certctld;
  bool keep_on_failure = false;
};

// The certctld installed beside this certctl-admin, else the first on PATH.
std::string FindCertctld() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && ::access((self.parent_path() / "certctld").c_str(), X_OK) == 0) {
    return (self.parent_path() / "certctld").string();
  }
  const char* path = std::getenv("PATH");
  for (std::string_view dirs = path ? path : ""; !dirs.empty();) {
    size_t colon = dirs.find(':');
    fs::path candidate = fs::path(std::string(dirs.substr(0, colon))) / "certctld";
    if (candidate.is_absolute() && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
    dirs = colon == std::string_view::npos ? "" : dirs.substr(colon + 1);
  }
  return "";
}

void Render(const AdminApp& app, const ops::OpReport& r, const Result<ops::DrDrill>& d,
            std::ostream& out) {
  if (d.ok() && !r.dry_run) {
    std::string rows;
    for (const auto& [table, n] : d->rows) {
      rows += (rows.empty() ? "" : ", ") + table + " " + std::to_string(n);
    }
    PrintFields(out, {{"dump", d->dump + " (" + d->format + ", " +
                                   std::to_string(d->dump_bytes) + " bytes)"},
                      {"sha256", d->dump_sha256},
                      {"schema", std::to_string(d->dump_schema_version) + " -> " +
                                     std::to_string(d->schema_version)},
                      {"rows", rows.empty() ? "-" : rows},
                      {"scratch", d->scratch_database + " on " + d->scratch_server}});
    out << "\n";
    std::vector<std::vector<std::string>> table{{"STEP", "OUTCOME", "TIME", "DETAIL"}};
    for (const auto& s : d->steps) {
      table.push_back({s.name, app.PaintVerdict(s.outcome),
                       std::to_string(s.duration.count()) + " ms", s.detail});
    }
    PrintTable(out, table);
    out << "\n";
  }
  PrintPlanStepsFindings(app, r, out);
}

void RunDrill(AdminApp& app, DrDrillFlags& f) {
  ops::DrDrillOptions options{
      .dump_path = f.dump,
      .backup_dir = f.backup_dir,
      .scratch_url = f.scratch_url,
      .certctld_path = f.certctld.empty() ? FindCertctld() : f.certctld,
      .keep_on_failure = f.keep_on_failure};
  if (options.backup_dir.empty() && !f.thresholds.empty()) {
    auto t = ops::LoadDrThresholds(f.thresholds);
    if (!t.ok()) return app.Fail(t.status());
    options.backup_dir = t->backup_dir;
  }
  auto env = app.Open();
  if (!env.ok()) return app.Fail(env.status());
  auto ctx = (*env)->Context(&f.mutation);
  // From here a SIGINT or SIGTERM stops the drill between steps, and its
  // cleanup runs before the process ends of that signal.
  CatchInterrupts();
  ops::OpReport report;
  auto result = ops::RunDrDrill(ctx, options, report);
  app.Finish(report, result, [&app](const auto& r, const auto& d, std::ostream& out) {
    Render(app, r, d, out);
  });
  std::cout.flush();
  ExitIfInterrupted();
}

const char kDescription[] =
    "The annual full DR rehearsal of the runbook's checklist, automated and recorded. "
    "It restores the newest database backup of the backup directory (by modification "
    "time, as `dr check` judges them; --backup-dir, or backup_dir of a --thresholds "
    "file), or the dump --dump names, into a scratch database it creates and drops "
    "afterwards (certctl_dr_drill_<random> on the configured server, or where "
    "--scratch-url says; as for `db restore-check`, never an existing database nor the "
    "live one), and applies the pending migrations. Then it brings the restored copy "
    "up as a real certctld would run after a disaster: a scratch directory (mode 0700) "
    "gets copies of the configured CA certificate and key, of every CA generation's "
    "and current responder's key file that the copy names, and of the published-CRL "
    "records beside the CA keys; the copy's rows are pointed at the copies. The live "
    "key files are only ever read: the scratch certctld cannot write beside a live "
    "key, and its responder keys carry the copy's own database identity.\n\n"
    "certctld (the one installed beside certctl-admin, else the first on PATH, or "
    "--certctld) is started on the copy with a configuration in its environment only: "
    "API and PKI listeners on 127.0.0.1 ports the kernel picks (learnt from its "
    "sd_notify READY message), a self-signed TLS certificate for 127.0.0.1, a random "
    "API key, the audit key and the database URL in files of the scratch directory "
    "(mode 0600), never on a command line. Through its API the drill issues a test "
    "certificate (CN dr-drill.certctl.invalid, one day) and revokes it; then it "
    "fetches the CRL and checks it as a relying party does, with the CA certificate of "
    "the restored copy (signature, issuer, the serial listed), and asks the OCSP "
    "responder (the answer says revoked and its signer chains to the restored CA "
    "certificate). Finally it stops certctld (SIGTERM; SIGKILL after 20s) and reaps "
    "it, drops the scratch database and removes the scratch directory, also when a "
    "step failed (unless --keep-on-failure) and when the drill itself gets SIGINT or "
    "SIGTERM (it stops after the current step, cleans up, and dies of the signal).\n\n"
    "The output is the evidence: what was restored (file, format, size, SHA-256, "
    "schema version before and after the migrations, row counts of the recoverable "
    "tables) and each step's outcome, time and detail. The drill runs under the lock "
    "dr:drill and is recorded in the audit log as dr.drill, succeeded or failed, which "
    "`dr check` (its dr_drill check) and `dr report` read. Run it once a year at least, "
    "and after every change to the backup procedure.";

}  // namespace

void RegisterDrDrill(AdminApp& app, CLI::App* group) {
  auto& f = app.Make<DrDrillFlags>();
  auto* cmd = group->add_subcommand(
      "drill", "The annual DR rehearsal: restore, serve, issue, revoke, check, clean up");
  auto* dump = cmd->add_option("--dump", f.dump,
                               "The pg_dump archive to drill with (default: the newest "
                               "in the backup directory)")
                   ->type_name("FILE");
  cmd->add_option("--backup-dir", f.backup_dir,
                  "Where the pg_dump backups are; the newest is restored")
      ->type_name("DIR")
      ->excludes(dump);
  cmd->add_option("--thresholds", f.thresholds,
                  "dr check's YAML file, for its backup_dir")
      ->type_name("FILE");
  cmd->add_option("--scratch-url", f.scratch_url,
                  "Restore on this server instead (default: the configured database's); "
                  "a database name in it is the scratch database's, which must not exist")
      ->type_name("URL");
  cmd->add_option("--certctld", f.certctld,
                  "The certctld to start (default: beside certctl-admin, else on PATH)")
      ->type_name("PATH");
  cmd->add_flag("--keep-on-failure", f.keep_on_failure,
                "When a step fails, keep the scratch database and directory to look at");
  app.AddMutationFlags(cmd, f.mutation);
  app.Document(
      cmd,
      {.description = kDescription,
       .examples = {{"certctl-admin dr drill --backup-dir /var/backups/certctl",
                     "the yearly drill with last night's backup"},
                    {"certctl-admin dr drill --dump /backups/certctl-2026-11-30.dump -o "
                     "json > drill-2026.json",
                     "a given backup, the evidence kept as JSON"},
                    {"certctl-admin dr drill --backup-dir /var/backups/certctl --dry-run",
                     "what would be restored and run"},
                    {"certctl-admin dr report --since 365d",
                     "the drills of the last year, for an auditor"},
                    {"# /etc/cron.d/certctl-dr-drill: every 15 January at 03:00 (% is "
                     "special to cron)\n"
                     "0 3 15 1 * root certctl-admin dr drill --backup-dir "
                     "/var/backups/certctl -o json > /var/log/certctl/dr-drill-$(date "
                     "+\\%Y).json",
                     "a cron line: the yearly drill, its evidence kept"}},
       .json_data =
           {{"passed", "whether every step passed"},
            {"dump",
             "{path, format, bytes, sha256, schema_version, "
             "schema_version_after, rows}"},
            {"scratch",
             "{database, server, directory, kept, certctld_pid, api_url, "
             "pki_url}"},
            {"certificate",
             "{issuer, generation, serial, crl_number, ocsp_status} of the test "
             "certificate"},
            {"steps",
             "[{name, outcome (passed, failed, skipped), duration_ms, detail}]: "
             "restore, migrate, material, start, issue, revoke, crl, ocsp, stop, "
             "cleanup"}},
       .findings = "a step failed (error finding dr.drill_failed naming it and why: a "
                   "dump that does not restore, a CA key that is not the dump's, a "
                   "certctld that does not start, a CRL or OCSP answer that does not "
                   "verify); the audit event says failed. Exit 2 with neither --dump nor "
                   "a backup directory, an empty backup directory, or a dump that is no "
                   "pg_dump output; 78 when certctld or pg_restore is not there or no "
                   "audit key is configured",
       .exit_status = {{130, "dr drill: interrupted by SIGINT; it cleaned up first"},
                       {143, "dr drill: interrupted by SIGTERM; it cleaned up first"}},
       .mutating = true});
  cmd->callback(
      [&app, &f] { app.SetAction("dr.drill", [&app, &f] { RunDrill(app, f); }); });
}

}  // namespace certctl::admin
