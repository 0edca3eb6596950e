// certctl-admin db restore-check: would restoring this backup give a working
// certctl? The runbook's quarterly "dry-run a Postgres restore", as one
// command a cron job can run.
#include <algorithm>
#include <iostream>
#include <optional>

#include "certctl/ops/restore_check.h"
#include "certctl/ops/restore_check_json.h"
#include "certctl/util/interrupt.h"
#include "certctl/util/time_format.h"
#include "commands.h"
#include "db_commands.h"

namespace certctl::admin {
namespace {

struct RestoreCheckFlags {
  std::string dump;
  std::string from_database;
  std::string scratch_url;
  bool keep = false;
  bool compare_live = false;
};

std::string Duration(std::chrono::milliseconds d) {
  return d.count() < 1000 ? std::to_string(d.count()) + " ms"
                          : std::to_string(d.count() / 1000) + "." +
                                std::to_string(d.count() % 1000 / 100) + " s";
}

void RenderSchema(const ops::RestoreCheck& c, std::ostream& out) {
  std::string applied;
  for (const auto& m : c.migrations_applied)
    applied += (applied.empty() ? "" : ", ") + m.name;
  PrintFields(out,
              {{"source", c.source + (c.format.empty() ? "" : " (" + c.format + ")")},
               {"schema in the dump", std::to_string(c.dump_schema_version)},
               {"migrations applied", applied.empty() ? "none" : applied},
               {"encryption key", c.encryption_key.empty() ? "-" : c.encryption_key},
               {"audit chain", !c.audit_rows ? "-"
                               : c.audit_intact
                                   ? std::to_string(*c.audit_rows) + " rows, intact"
                                   : std::to_string(*c.audit_rows) + " rows, BROKEN"}});
}

void RenderTables(const ops::RestoreCheck& c, std::ostream& out) {
  if (c.tables.empty()) return;
  std::vector<std::vector<std::string>> rows{{"TABLE", "ROWS", "LIVE ROWS"}};
  for (const auto& t : c.tables) {
    rows.push_back({t.name, std::to_string(t.rows),
                    t.live_rows ? std::to_string(*t.live_rows) : "-"});
  }
  out << "\n";
  PrintTable(out, rows);
}

void RenderKeyFiles(const AdminApp& app, const ops::RestoreCheck& c, std::ostream& out) {
  if (c.key_files.empty()) return;
  std::vector<std::vector<std::string>> rows{{"KEY FILE", "OF", "PATH", "STATE"}};
  for (const auto& k : c.key_files) {
    rows.push_back({k.role, k.subject, k.path,
                    k.problem.empty() ? app.PaintVerdict("ok")
                                      : app.Paint(k.problem, Colour::kRed)});
  }
  out << "\n";
  PrintTable(out, rows);
}

void RenderLive(const ops::RestoreCheck& c, std::ostream& out) {
  if (!c.revocations_after_backup.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"REVOKED AFTER THE BACKUP", "SERIAL", "REASON", "REVOKED AT", "SEEN IN"}};
    for (const auto& r : c.revocations_after_backup) {
      rows.push_back({r.issuer + "/g" + std::to_string(r.generation), r.serial,
                      r.reason_name, FormatRfc3339(r.revoked_at), r.seen_in});
    }
    out << "\n";
    PrintTable(out, rows);
  }
  if (!c.reused_crl_numbers.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"CRL NUMBERS REUSED", "IN THE DUMP", "PUBLISHED", "SEEN IN"}};
    for (const auto& n : c.reused_crl_numbers) {
      rows.push_back({n.issuer + "/g" + std::to_string(n.generation),
                      std::to_string(n.dump_highest), std::to_string(n.live_highest),
                      n.seen_in});
    }
    out << "\n";
    PrintTable(out, rows);
  }
}

void RenderPhases(const AdminApp& app, const ops::RestoreCheck& c, std::ostream& out) {
  std::vector<std::vector<std::string>> rows{{"PHASE", "OUTCOME", "TIME"}};
  for (const auto& p : c.phases) {
    rows.push_back({p.name,
                    app.PaintVerdict(p.outcome == "skipped" ? "skipped" : p.outcome),
                    Duration(p.duration)});
  }
  out << "\n";
  PrintTable(out, rows);
}

void Render(const AdminApp& app, const ops::OpReport& r,
            const Result<ops::RestoreCheck>& result, std::ostream& out) {
  for (const auto& s : r.steps) out << s << "\n";
  if (!result.ok()) return;
  const ops::RestoreCheck& c = *result;
  if (c.kept) {
    out << "scratch database " << c.scratch_database << " on " << c.scratch_server
        << " and directory " << c.scratch_dir << " kept (--keep): drop them when done\n";
  }
  out << "\n";
  RenderSchema(c, out);
  RenderTables(c, out);
  RenderKeyFiles(app, c, out);
  RenderLive(c, out);
  RenderPhases(app, c, out);
  out << "\n";
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.message << " [" << f.code << "]\n";
  }
  std::string verdict(ops::RestoreVerdictName(c.verdict));
  std::replace(verdict.begin(), verdict.end(), '-', ' ');
  out << "verdict: "
      << app.Paint(verdict, c.verdict == ops::RestoreVerdict::kUsable ? Colour::kGreen
                            : c.verdict == ops::RestoreVerdict::kUnusable
                                ? Colour::kRed
                                : Colour::kYellow)
      << "\n";
}

void RunRestoreCheck(AdminApp& app, const RestoreCheckFlags& f) {
  if (f.dump.empty() == f.from_database.empty()) {
    return app.Fail(
        Status::InvalidArgument("give exactly one of --dump FILE and "
                                "--from-database URL"));
  }
  auto env = app.Open(/*allow_outdated_schema=*/true);
  if (!env.ok()) return app.Fail(env.status());
  auto ctx = (*env)->Context();
  std::optional<net::HttpClient> http;
  if (f.compare_live) {
    auto client = app.HttpClientFor(ctx.config);
    if (!client.ok()) return app.Fail(client.status());
    http.emplace(std::move(client).value());
  }
  ops::RestoreCheckOptions options{f.dump, f.from_database, f.scratch_url,
                                   f.keep, f.compare_live,  http ? &*http : nullptr};
  ops::OpReport report;
  // A SIGINT or SIGTERM stops the check after its current phase; the scratch
  // database and directory are dropped, then the process dies of the signal.
  CatchInterrupts();
  auto result = ops::CheckRestore(ctx, options, report);
  app.Finish(report, result,
             [&app](const auto& r, const auto& result, std::ostream& out) {
               Render(app, r, result, out);
             });
  std::cout.flush();
  ExitIfInterrupted();
}

const char kDescription[] =
    "Answers the question a backup exists for: would restoring it give a working "
    "certctl? The dump (--dump: a pg_dump archive in the custom, directory or tar "
    "format, or a plain SQL dump; or --from-database URL, dumped first with pg_dump "
    "into a scratch directory) is restored with the installed PostgreSQL's pg_restore "
    "or psql into a scratch database that the command creates and drops afterwards "
    "(kept with --keep): by default a new database named certctl_restore_check_<random> "
    "on the server of the configured database, or the server (and database name) that "
    "--scratch-url gives. A scratch database that exists, or one that is the live "
    "database, is refused: nothing is ever restored over existing data (the "
    "role connecting needs the CREATEDB privilege). The "
    "programs run without a shell, and a password reaches them in their environment "
    "(PGPASSWORD), never on their command line; prefer ~/.pgpass or PGPASSFILE over "
    "passwords in URLs.\n\nThen, phase by phase, timed: migrate (the dump's applied "
    "migrations against this binary's, versions and checksums, and the pending ones "
    "applied to the copy, listed); schema (tables and columns against a fresh database "
    "this binary migrates: missing tables are errors, extra ones warnings); data (row "
    "counts of the tables the runbook calls recoverable, beside the live database's; "
    "every foreign key; the audit hash chain, verified with the configured audit key); "
    "material (the runbook's \"NOT in DB\" list: the configured CA certificate and key "
    "are a generation of the dump's iss-local; every generation's CA key file and "
    "every responder row's key file exists and holds its certificate's key; every "
    "trust bundle parses; CERTCTL_CONFIG_ENCRYPTION_KEY opens the dump's key-check "
    "value, which `db migrate` records; an API key and the agent bootstrap token are "
    "configured); live (revocations in the live database, and with --compare-live in "
    "the CRLs served at the CRL URLs of the dump's certificates, that the dump lacks, "
    "listed by serial and reason, and CRL numbers used after the backup that a restore "
    "would use again: both are what `db post-restore` repairs after a real restore).\n\n"
    "Key files are only read, whatever path the dump names: the check never writes "
    "outside its scratch database and directory, and the live database only gets one "
    "audit event, db.restore-check, with the verdict (the evidence `dr check` looks "
    "for). The verdict is usable, usable with warnings (exit 0) or unusable (exit 1), "
    "with every reason. A plain dump is refused when it holds a psql meta-command "
    "other than \\restrict (such as \\connect, written by pg_dump --create, which "
    "would restore into another database) and reported unusable when it lacks "
    "pg_dump's closing line (truncated); the custom format is the safer choice. "
    "Progress is shown per phase on a terminal.";

}  // namespace

void RegisterDbRestoreCheck(AdminApp& app, CLI::App* db) {
  auto& f = app.Make<RestoreCheckFlags>();
  auto* cmd = db->add_subcommand("restore-check",
                                 "Restore a backup into a scratch database and check it "
                                 "would give a working certctl");
  auto* dump = cmd->add_option("--dump", f.dump,
                               "The pg_dump archive (custom, directory or tar format) or "
                               "plain SQL dump to check")
                   ->type_name("FILE");
  cmd->add_option("--from-database", f.from_database,
                  "Dump this database with pg_dump first and check that (a libpq URL; "
                  "keep its password in ~/.pgpass)")
      ->type_name("URL")
      ->excludes(dump);
  cmd->add_option("--scratch-url", f.scratch_url,
                  "Restore on this server instead (default: the configured database's); "
                  "a database name in it is the scratch database's, which must not exist")
      ->type_name("URL");
  cmd->add_flag("--keep", f.keep,
                "Keep the scratch database and directory afterwards (to look around)");
  cmd->add_flag("--compare-live", f.compare_live,
                "Also fetch the CRL of each CA generation from its URL in the dump's "
                "certificates and compare it with the dump");
  app.Document(
      cmd,
      {.description = kDescription,
       .examples =
           {{"certctl-admin db restore-check --dump /backups/certctl-2026-11-30.dump",
             "check last night's backup on the configured server"},
            {"certctl-admin db restore-check --dump /backups/latest.dump --compare-live "
             "-o json",
             "the same, comparing with the published CRLs, for a script"},
            {"certctl-admin db restore-check --from-database postgres://backup@replica/"
             "certctl --scratch-url postgres://check@staging/",
             "check what a replica holds, restoring on a staging server"},
            {"certctl-admin db restore-check --dump /backups/latest.dump --keep",
             "keep the restored copy to look at it with psql"}},
       .json_data = {{"verdict", "usable, usable-with-warnings or unusable"},
                     {"reasons", "the findings' messages, errors first"},
                     {"source, format", "the dump (or the masked URL) and its format"},
                     {"scratch_database, scratch_server, kept, scratch_dir",
                      "where it was restored, and whether it was kept"},
                     {"dump_schema_version, schema_version, migrations_applied",
                      "the dump's schema and the migrations applied to the copy"},
                     {"missing_tables, extra_tables", "against this binary's schema"},
                     {"tables", "[{name, rows, live_rows}] of the recoverable tables"},
                     {"foreign_key_violations", "rows whose reference is missing"},
                     {"audit", "{rows, intact} of the dump's audit chain, or null"},
                     {"key_files", "[{role, subject, path, ok, problem}]"},
                     {"encryption_key",
                      "opens, wrong-key, no-key, no-check-value or unknown-scheme"},
                     {"revocations_after_backup",
                      "[{issuer, generation, serial, reason, reason_code, revoked_at, "
                      "seen_in}]"},
                     {"reused_crl_numbers",
                      "[{issuer, generation, dump_highest, live_highest, seen_in}]"},
                     {"phases",
                      "[{name, outcome (ok, warning, error, skipped), "
                      "duration_ms}]"}},
       .findings =
           "the verdict is unusable: an error finding names each reason (restore.failed, "
           "restore.dump_unusable, restore.schema_mismatch, restore.tables_missing, "
           "restore.foreign_key, restore.audit_chain, restore.ca_not_in_dump, "
           "restore.ca_key, restore.ca_key_file, restore.trust_bundle, "
           "restore.encryption_key_wrong, restore.encryption_key_missing, "
           "restore.api_key_missing, ...); warnings (usable with warnings, exit 0): "
           "restore.responder_key_file, restore.revocations_after_backup, "
           "restore.crl_numbers_reused, restore.tables_extra, "
           "restore.encryption_key_unverified, restore.bootstrap_token_missing. Exit 2 "
           "for a dump that is missing or is no pg_dump output, or a scratch database "
           "that exists or is the live one; 69 when a server cannot be reached; 78 when "
           "pg_restore, psql or pg_dump is not installed",
       .exit_status = {{130,
                        "db restore-check: interrupted by SIGINT; the scratch "
                        "database and directory were dropped first"},
                       {143,
                        "db restore-check: interrupted by SIGTERM; the scratch "
                        "database and directory were dropped first"}}});
  cmd->callback([&app, &f] {
    app.SetAction("db.restore-check", [&app, &f] { RunRestoreCheck(app, f); });
  });
}

}  // namespace certctl::admin
