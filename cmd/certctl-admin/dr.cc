// certctl-admin dr: the runbook's DR checklist as checks a cron job runs.
#include <iomanip>
#include <iostream>

#include "certctl/ops/audit_ops.h"
#include "certctl/ops/dr_check.h"
#include "certctl/ops/dr_json.h"
#include "certctl/ops/dr_report.h"
#include "certctl/util/exit_codes.h"
#include "certctl/util/time_format.h"
#include "commands.h"

namespace certctl::admin {
namespace {

struct DrCheckFlags {
  std::string profile = "all";
  std::string thresholds;
  std::string backup_dir;
  std::string output;  // empty: the global --output
  bool list = false;
};

// HELP text: backslash and newline escaped (the exposition format's rule).
std::string HelpText(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The node_exporter textfile format: one gauge per check, then the run's.
void RenderPrometheus(const ops::DrCheckRun& run, std::ostream& out) {
  for (const auto& c : run.checks) {
    std::string line;
    for (const auto& info : ops::DrChecks()) {
      if (info.name == c.name) line = info.checklist_line;
    }
    std::string metric = "certctl_dr_check_" + c.name;
    out << "# HELP " << metric << " " << HelpText(line)
        << " (0 ok, 1 warning, 2 critical, 3 unknown)\n"
        << "# TYPE " << metric << " gauge\n"
        << metric << " " << ops::DrStatusValue(c.status) << "\n";
  }
  std::string profile = std::string(ops::DrProfileName(run.profile));
  out << "# HELP certctl_dr_check_status The worst status of the run (0 ok, 1 warning, "
         "2 critical, 3 unknown)\n"
      << "# TYPE certctl_dr_check_status gauge\n"
      << "certctl_dr_check_status{profile=\"" << profile << "\"} "
      << ops::DrStatusValue(run.worst) << "\n"
      << "# HELP certctl_dr_check_last_run_timestamp_seconds When the run checked, as "
         "seconds since the epoch\n"
      << "# TYPE certctl_dr_check_last_run_timestamp_seconds gauge\n"
      << "certctl_dr_check_last_run_timestamp_seconds{profile=\"" << profile << "\"} "
      << std::chrono::duration_cast<std::chrono::seconds>(
             run.checked_at.time_since_epoch())
             .count()
      << "\n";
}

void RenderText(const AdminApp& app, const ops::OpReport& report,
                const ops::DrCheckRun& run, std::ostream& out) {
  std::vector<std::vector<std::string>> rows{{"CHECK", "STATUS", "MESSAGE"}};
  for (const auto& c : run.checks) {
    rows.push_back({c.name, app.PaintVerdict(ops::DrStatusName(c.status)), c.message});
  }
  PrintTable(out, rows);
  bool heading = false;
  for (const auto& c : run.checks) {
    if (c.fix.empty()) continue;
    if (!heading) out << "\nto fix:\n";
    heading = true;
    out << "  " << c.name << ": " << c.fix << "\n";
  }
  for (const auto& f : report.findings) out << f.severity << ": " << f.message << "\n";
  out << "\n"
      << report.steps.back() << " (profile " << ops::DrProfileName(run.profile) << ")\n";
}

void RenderList(const AdminApp& app, std::ostream& out) {
  if (app.output() == OutputFormat::kJson) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& c : ops::DrChecks()) {
      checks.push_back({{"name", c.name},
                        {"profile", ops::DrProfileName(c.profile)},
                        {"checklist_line", c.checklist_line}});
    }
    ops::OpReport report;
    report.operation = "dr.check";
    out << ops::ReportJson(report, Status::Ok(), {.data = {{"checks", checks}}}).dump(2)
        << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{{"CHECK", "PROFILE", "CHECKLIST LINE"}};
  for (const auto& c : ops::DrChecks()) {
    rows.push_back(
        {c.name, std::string(ops::DrProfileName(c.profile)), c.checklist_line});
  }
  PrintTable(out, rows);
}

int ExitCodeOf(ops::DrStatus worst) {
  switch (worst) {
    case ops::DrStatus::kOk:
      return kExitOk;
    case ops::DrStatus::kWarning:
    case ops::DrStatus::kUnknown:
      return kExitCheckWarning;
    case ops::DrStatus::kCritical:
      return kExitCheckCritical;
  }
  return kExitCheckCritical;
}

void RunCheck(AdminApp& app, const DrCheckFlags& flags) {
  ops::DrCheckOptions options;
  auto profile = ops::ParseDrProfile(flags.profile);
  if (!profile.ok()) return app.Fail(profile.status());
  options.profile = *profile;
  if (!flags.thresholds.empty()) {
    auto t = ops::LoadDrThresholds(flags.thresholds);
    if (!t.ok()) return app.Fail(t.status());
    options.thresholds = *t;
  }
  if (!flags.backup_dir.empty()) options.thresholds.backup_dir = flags.backup_dir;
  auto env = app.Open();
  if (!env.ok()) return app.Fail(env.status());
  auto ctx = (*env)->Context();
  ops::OpReport report;
  auto run = ops::RunDrChecks(ctx, options, report);
  if (flags.output == "prometheus" && run.ok()) {
    RenderPrometheus(*run, std::cout);
    for (const auto& f : report.findings)
      std::cerr << f.severity << ": " << f.message << "\n";
  } else {
    app.Finish(report, run,
               [&app](const ops::OpReport& r, const Result<ops::DrCheckRun>& result,
                      std::ostream& out) {
                 if (result.ok()) RenderText(app, r, *result, out);
               });
  }
  if (run.ok()) app.SetExitCode(ExitCodeOf(run->worst));
}

CommandDoc CheckDoc() {
  return {
      .description =
          "Runs the DR checklist of the disaster-recovery runbook as named checks, each "
          "ok, warning, critical or unknown (it could not tell), with a message and the "
          "command that fixes it. `--list` names them all with the checklist line each "
          "one executes.\n\n"
          "Profiles are the checklist's sections. daily: the newest database backup in "
          "the backup directory is younger than 26h (critical past 50h), at least 30 "
          "days of backups are kept, the newest one is readable (`pg_restore --list`, "
          "or, for a plain .sql dump, pg_dump's completion line); every CA generation "
          "that still signs is in a recorded `ca backup`, every current responder "
          "certificate and each configured trust bundle is in one (read from the "
          "backup's manifest; unknown when the directory is not readable here); every "
          "generation's CRL is valid and more than 3 days from nextUpdate; the OCSP "
          "cache agrees with the database (`cache verify`; an answer good for a revoked "
          "certificate is critical); no responder certificate expires within 14 days "
          "(critical: 7); no operation lock is held for a process on this host that is "
          "gone (critical) or for more than an hour (warning). quarterly: a restore "
          "check (audit action db.restore-check) within 92 days (critical past 122); "
          "the active CA certificates' notAfter more than 365 days away (critical "
          "below 90); each responder certificate replaced within 92 days (critical "
          "past 184). annual: a DR drill (audit action dr.drill) within 366 days "
          "(critical past 396); the API keys and the agent bootstrap token changed "
          "within 335 days (critical past 366). all (the default): every check.\n\n"
          "Secrets are never stored: each run records in its audit event a salted "
          "PBKDF2-HMAC-SHA256 fingerprint of each configured secret and the date it was "
          "first seen, carried from run to run while it is unchanged. A secret's age is "
          "known from the first run that sees it change; before that it is unknown, and "
          "critical once it has been seen unchanged for longer than the threshold.\n\n"
          "Thresholds are overridden by a YAML file (--thresholds) whose keys are: "
          "backup_dir, database_backup_warning, database_backup_critical, "
          "database_backup_retention, ca_not_after_warning, ca_not_after_critical, "
          "responder_rotation_warning, responder_rotation_critical, "
          "responder_expiry_warning, responder_expiry_critical, restore_check_warning, "
          "restore_check_critical, drill_warning, drill_critical, secret_warning, "
          "secret_critical, crl_time_left_warning, lock_held_warning; durations are "
          "written 26h, 30d, 90m. An unknown key or a bad value is exit 2.\n\n"
          "--output prometheus writes the node_exporter textfile format: a gauge "
          "certctl_dr_check_NAME per check (0 ok, 1 warning, 2 critical, 3 unknown), "
          "certctl_dr_check_status (the worst) and "
          "certctl_dr_check_last_run_timestamp_seconds. Write it to a temporary file "
          "and rename it into the collector's directory, so node_exporter never reads "
          "half a file.",
      .examples = {{"certctl-admin dr check --backup-dir /var/backups/certctl",
                    "every check, for a person"},
                   {"certctl-admin dr check --list",
                    "the checks and the checklist lines"},
                   {"certctl-admin dr check --profile quarterly -o json",
                    "the quarterly checks, for a script"},
                   {"# /etc/cron.d/certctl-dr: daily at 06:15, for node_exporter\n"
                    "15 6 * * * root certctl-admin dr check --profile daily --backup-dir "
                    "/var/backups/certctl --output prometheus > "
                    "/var/lib/prometheus/node-exporter/certctl_dr.prom.tmp; mv "
                    "/var/lib/prometheus/node-exporter/certctl_dr.prom.tmp "
                    "/var/lib/prometheus/node-exporter/certctl_dr.prom",
                    "a cron line"},
                   {"# /etc/systemd/system/certctl-dr-check.service\n[Unit]\n"
                    "Description=certctl DR checklist\n\n[Service]\nType=oneshot\n"
                    "EnvironmentFile=/etc/certctl/env\n"
                    "ExecStart=/usr/bin/certctl-admin dr check --profile all "
                    "--thresholds /etc/certctl/dr-thresholds.yaml\n"
                    "SuccessExitStatus=3\n\n"
                    "# /etc/systemd/system/certctl-dr-check.timer\n[Unit]\n"
                    "Description=Run the certctl DR checklist daily\n\n[Timer]\n"
                    "OnCalendar=*-*-* 06:15:00\nPersistent=true\n\n[Install]\n"
                    "WantedBy=timers.target",
                    "a systemd timer instead (enable it with `systemctl enable --now "
                    "certctl-dr-check.timer`; a critical run, exit 4, marks the service "
                    "failed)"}},
      .json_data = {{"profile", "the profile run"},
                    {"checked_at", "when (RFC 3339)"},
                    {"checks", "[{name, profile, status, message, fix}]"},
                    {"counts", "{ok, warning, critical, unknown}"},
                    {"status", "the worst status: critical, warning, unknown or ok"},
                    {"recorded", "whether the run's dr.check audit event was written"}},
      .findings = "never (see 3 and 4)",
      .exit_status = {{kExitCheckWarning,
                       "dr check: a check warned or could not tell (unknown), none is "
                       "critical"},
                      {kExitCheckCritical, "dr check: a check is critical"}},
      .read_only_note =
          "It changes nothing but the audit log: each run writes one audit event "
          "dr.check (target: the profile) with each check's status and the secrets' "
          "salted fingerprints; `dr report` and the next run read it."};
}

void RegisterCheck(AdminApp& app, CLI::App* group) {
  auto& flags = app.Make<DrCheckFlags>();
  auto* check = group->add_subcommand("check", "Run the runbook's DR checklist");
  app.Choices(check
                  ->add_option("--profile", flags.profile,
                               "Which checklist section: daily, quarterly, annual or all")
                  ->capture_default_str(),
              {"daily", "quarterly", "annual", "all"});
  check->add_option("--thresholds", flags.thresholds, "YAML file overriding thresholds")
      ->type_name("FILE");
  check
      ->add_option("--backup-dir", flags.backup_dir,
                   "Where the pg_dump backups are (overrides backup_dir)")
      ->type_name("DIR");
  check->add_flag("--list", flags.list, "List the checks and exit");
  app.Choices(check->add_option("--output,-o", flags.output,
                                "Output format: text, json, or prometheus (the "
                                "node_exporter textfile format)"),
              {"text", "json", "prometheus"});
  app.Document(check, CheckDoc());
  check->callback([&app, &flags] {
    if (flags.output == "text" || flags.output == "json")
      app.globals().output = flags.output;
    app.SetAction("dr.check", [&app, &flags] {
      if (flags.list) {
        RenderList(app, std::cout);
        return;
      }
      RunCheck(app, flags);
    });
  });
}

struct DrReportFlags {
  std::string since;
  std::string output;  // empty: the global --output
};

// A Markdown table cell: one line, pipes escaped.
std::string MarkdownCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

void RenderMarkdown(const ops::DrReport& r, std::ostream& out) {
  out << "# certctl DR evidence\n\n"
      << "Period: " << FormatRfc3339(r.since) << " to " << FormatRfc3339(r.until)
      << ".\n\nAudit log: ";
  if (r.audit_log_intact) {
    out << "intact (" << r.audit_rows_checked << " rows verified with the audit key).\n";
  } else {
    out << "**does not verify**: " << MarkdownCell(r.audit_problem.value_or("unknown"))
        << ". The events below are what the log says.\n";
  }
  for (const auto& s : r.sections) {
    out << "\n## " << s.title << " (" << s.events.size() << ")\n\n";
    if (s.events.empty()) {
      out << "None recorded (audit actions:";
      for (const auto& a : s.actions) out << " `" << a << "`";
      out << ").\n";
      continue;
    }
    if (s.limited) out << "Only the newest events of each action are listed.\n\n";
    out << "| When (UTC) | Action | Target | Outcome | Actor | Host | Detail |\n"
        << "|---|---|---|---|---|---|---|\n";
    for (const auto& e : s.events) {
      out << "| " << FormatRfc3339(e.occurred_at) << " | " << MarkdownCell(e.action)
          << " | " << MarkdownCell(e.target) << " | " << AuditOutcomeName(e.outcome)
          << " | " << MarkdownCell(e.actor) << " | " << MarkdownCell(e.host) << " | "
          << MarkdownCell(e.detail) << " |\n";
    }
  }
}

void RegisterReport(AdminApp& app, CLI::App* group) {
  auto& flags = app.Make<DrReportFlags>();
  auto* report = group->add_subcommand(
      "report", "Evidence for an auditor: checks, drills, restores, rotations");
  report
      ->add_option("--since", flags.since,
                   "From when: an RFC 3339 time or date, or a duration back from now "
                   "(90d)")
      ->required()
      ->type_name("DATE");
  app.Choices(report->add_option("--output,-o", flags.output,
                                 "Output format: markdown (the default) or json"),
              {"markdown", "json"});
  app.Document(
      report,
      {.description =
           "Collects from the audit log what an auditor asks for about disaster "
           "recovery since a date: the DR checks run (`dr check`, with each check's "
           "status), the DR drills (dr.drill) and restore checks (db.restore-check), "
           "the CA backups, the rotations (ca.rotate, ocsp.reset-responder) and the "
           "recoveries (db.post-restore, db.migrate, crl.regenerate, cache.truncate, "
           "cache.verify, trust.reload, audit.anchor), each with its time, actor, host, "
           "target, outcome and detail. It verifies the audit log's keyed chain first "
           "and says whether the evidence can be trusted.\n\nThe Markdown output is "
           "meant to be attached to an audit ticket as it is.",
       .examples = {{"certctl-admin dr report --since 365d > dr-evidence.md",
                     "the last year's evidence, as Markdown"},
                    {"certctl-admin dr report --since 2026-01-01 -o json",
                     "the same since a date, for a script"}},
       .json_data = {{"since", "the start of the period (RFC 3339)"},
                     {"until", "when the report was made"},
                     {"sections",
                      "[{name, title, actions, limited, events: [audit events as "
                      "`audit list` shows them]}]: checks, drills, restore_checks, "
                      "backups, rotations, recoveries"},
                     {"audit_log", "{intact, rows_checked, problem}"}},
       .findings = "never; a log that does not verify is a warning finding "
                   "dr.audit_log_not_intact"});
  report->callback([&app, &flags] {
    if (flags.output == "json") app.globals().output = "json";
    app.SetAction("dr.report", [&app, &flags] {
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context();
      auto since = ops::ParseSince(flags.since, ctx.clock.Now());
      if (!since.ok()) return app.Fail(since.status().WithContext("--since"));
      ops::OpReport op_report;
      auto result = ops::BuildDrReport(ctx, {.since = *since}, op_report);
      app.Finish(
          op_report, result,
          [](const ops::OpReport&, const Result<ops::DrReport>& r, std::ostream& out) {
            if (r.ok()) RenderMarkdown(*r, out);
          });
    });
  });
}

}  // namespace

void RegisterDrCommands(AdminApp& app) {
  auto* group =
      app.root().add_subcommand("dr", "The DR checklist: checks for cron and evidence");
  group->require_subcommand(1);
  RegisterCheck(app, group);
  RegisterDrDrill(app, group);
  RegisterReport(app, group);
}

}  // namespace certctl::admin
