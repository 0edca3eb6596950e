// certctl-admin audit: evidence for auditors.
#include "certctl/ops/audit_json.h"
#include "certctl/ops/audit_ops.h"
#include "certctl/util/time_format.h"
#include "commands.h"

namespace certctl::admin {
namespace {

struct ListFlags {
  std::string since;
  std::string action;
  std::string actor;
  int limit = 1000;
};

struct AnchorFlags {
  std::string reason;
  std::vector<std::string> anchors;
  MutationFlags mutation;
};

constexpr char kVerifyDescription[] =
    "Walks the whole audit log in order, checks every row with the audit key, and "
    "checks that the log still reaches the row each anchor file names. It reports "
    "every break, not only the first, and only reads, with a cursor, so a long log "
    "needs little memory.\n\n"
    "How the log is protected: every row written since schema version 3 carries an "
    "HMAC-SHA256 of its content, its position in the log, its id and the hash of the "
    "row before it, under the audit key (audit_key: CERTCTL_AUDIT_KEY or a file named "
    "by audit_key_file), which is not in the database. certctl computes and checks it "
    "in its own code; no function stored in the database takes part. After each append "
    "every certctld and certctl-admin moves its host's anchor file (audit_anchor_file; "
    "one line, mode 0600, written atomically) to the new head: position, id and hash, "
    "but only while the row it named is still there unchanged; after a deletion it "
    "stays where it was, as evidence, until `certctl-admin audit anchor`. Without "
    "--anchor the configured anchor file is used.\n\n"
    "Detected, when done without the audit key: a row changed, also with its hash and "
    "every later hash recomputed (by hand or with the old audit_event_digest() "
    "function); a row inserted; a row deleted anywhere in the log; rows deleted at the "
    "end, through an anchor (the log no longer reaches the row it names); the rows "
    "written before schema version 3 changed after the first keyed row; a function in "
    "the database replaced (verification uses none).\n\n"
    "Each break is listed with its row and kind: modified (a row holding a position of "
    "the chain that does not verify: its content or hash was changed, or it was written "
    "without the key, e.g. at the end, where later rows then linked to it; the two look "
    "the same), inserted (a row that "
    "does not verify between two rows that link to each other), missing (positions with "
    "no row: deleted), truncated and anchor (the row an anchor names is gone or "
    "different), forked (a verifying row that does not follow the one before it: a "
    "restored database written to), other_key (signed with another audit key), "
    "unkeyed (an unkeyed row after the keyed chain began), unkeyed_modified and "
    "unkeyed_relinked (in the rows from before schema version 3), sealed (those rows "
    "changed after the first keyed row). A break acknowledged with `certctl-admin audit "
    "anchor` is listed as acknowledged, a warning, and does not make the exit status "
    "1.\n\n"
    "Not detected: what someone who holds the audit key and can write to the database "
    "and to every anchor file does (they can write a chain that verifies); rows deleted "
    "at the end when no anchor is checked, or after the row the checked anchors name: "
    "an anchor file is per host and names the newest row that host wrote, so check the "
    "file of every host that writes (give --anchor once per file); a change made, with "
    "the hashes recomputed, to rows from before schema version 3 before the first keyed "
    "row was written (reported as the warning audit.unkeyed_history); an event that "
    "was never written.\n\n"
    "A missing audit key, or one that is not the log's (no keyed row names its id), is "
    "a configuration error (exit 78) that says so; it is never reported as tampering.";

constexpr char kAnchorDescription[] =
    "Records that the breaks `certctl-admin audit verify` finds now have been explained "
    "and are accepted: one audit event (action audit.anchor), signed with the audit "
    "key, that lists each break and the reason. Nothing in the log is rewritten: later "
    "verifications still find those breaks and list them as acknowledged (warnings, "
    "exit 0), while a break not in the list, or a listed row that changes again, is "
    "still an error. The configured anchor file and each --anchor file are then "
    "pointed at the new event, so verification with them passes again.\n\n"
    "Use it after restoring the database from a backup (the anchor shows the newest "
    "rows missing) or after a row found changed has been looked into. Give --anchor "
    "for each other host's anchor file that shows the break, or run it on that host. "
    "With nothing to acknowledge it writes nothing. It is recorded for good, so it asks "
    "for confirmation.";

void RenderList(const AdminApp& app, const Result<ops::AuditEventList>& list,
                std::ostream& out) {
  if (!list.ok()) return;
  std::vector<std::vector<std::string>> rows{
      {"ID", "TIME", "ACTOR", "HOST", "ACTION", "TARGET", "OUTCOME", "MS", "DETAIL"}};
  for (const auto& e : list->events) {
    std::string outcome(AuditOutcomeName(e.outcome));
    rows.push_back({std::to_string(e.id), FormatRfc3339(e.occurred_at), e.actor, e.host,
                    e.action, e.target,
                    outcome == "failed" ? app.Paint(outcome, Colour::kRed) : outcome,
                    e.duration_ms ? std::to_string(*e.duration_ms) : "-", e.detail});
  }
  if (rows.size() == 1) {
    out << "no matching audit events\n";
    return;
  }
  PrintTable(out, rows);
  if (list->limited) {
    out << "(older matches not shown; raise --limit or narrow --since)\n";
  }
}

void PrintBreaks(const AdminApp& app, const std::vector<audit::ChainBreak>& breaks,
                 std::ostream& out) {
  std::vector<std::vector<std::string>> rows{{"ROW", "KIND", "STATE", "WHAT"}};
  for (const auto& b : breaks) {
    bool acknowledged = b.acknowledged_by.has_value();
    rows.push_back({b.id ? std::to_string(b.id) : "-", b.kind,
                    acknowledged ? app.Paint("acknowledged", Colour::kYellow)
                                 : app.Paint("broken", Colour::kRed),
                    b.message + (acknowledged ? " (acknowledged by event " +
                                                    std::to_string(*b.acknowledged_by) +
                                                    ": " + b.acknowledged_reason + ")"
                                              : "")});
  }
  if (rows.size() > 1) PrintTable(out, rows, 2);
}

void RenderVerify(const AdminApp& app, const ops::OpReport& r,
                  const Result<ops::AuditLogVerified>& result, std::ostream& out) {
  if (!result.ok()) return;
  const ops::AuditLogVerified& v = *result;
  int64_t unacknowledged = v.unlisted_breaks;
  for (const auto& b : v.breaks) unacknowledged += b.acknowledged_by ? 0 : 1;
  if (v.intact) {
    out << app.PaintVerdict("intact") << ": " << v.rows_checked
        << " audit events, every link verifies with audit key " << v.key_id;
  } else {
    out << app.PaintVerdict("broken") << ": " << unacknowledged << " break"
        << (unacknowledged == 1 ? "" : "s") << " in " << v.rows_checked
        << " audit events (audit key " << v.key_id << ")";
  }
  if (v.head) out << "; newest row " << v.head->id << " at position " << v.head->seq;
  out << "\n";
  PrintBreaks(app, v.breaks, out);
  for (const auto& a : v.anchors) {
    out << "anchor " << a.source << ": row " << a.head.id << " at position " << a.head.seq
        << ", written " << FormatRfc3339(a.head.written_at) << "\n";
  }
  for (const auto& f : r.findings) {
    if (f.severity == "warning" && f.code != "audit.acknowledged_break") {
      out << app.Paint("note", Colour::kYellow) << ": " << f.message << "\n";
    }
  }
}

void RegisterList(AdminApp& app, CLI::App* audit) {
  auto& f = app.Make<ListFlags>();
  auto* cmd = audit->add_subcommand("list", "Show audit events");
  cmd->add_option("--since", f.since,
                  "Only events at or after this time (2026-11-27T17:00:00Z, 2026-11-27) "
                  "or within this long back from now (24h, 7d)")
      ->type_name("WHEN");
  app.CompleteWith(
         cmd->add_option("--action", f.action, "Only this action, e.g. crl.regenerate"),
         kAuditActionNames)
      ->type_name("ACTION");
  cmd->add_option("--actor", f.actor, "Only events by this actor")->type_name("NAME");
  cmd->add_option("--limit", f.limit,
                  "At most this many (the newest), shown oldest first")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.Document(
      cmd,
      {.description =
           "Lists audit events oldest first: when, who (actor and host), what (action, "
           "target, outcome started/succeeded/failed), how long, and the detail. Every "
           "mutating certctl-admin command and every certctld change writes them; the "
           "full masked command line and parameters are in the JSON output.\n\nNote that "
           "the global --actor option names who is acting; to filter by actor give it "
           "after the subcommand: `certctl-admin audit list --actor alice`.",
       .examples = {{"certctl-admin audit list --since 24h", "what happened today"},
                    {"certctl-admin audit list --action crl.regenerate -o json",
                     "evidence for an auditor"}},
       .json_data =
           {{"events",
             "[{id, occurred_at, actor, host, action, target, outcome, command_line, "
             "parameters, detail, duration_ms, correlation_id}], oldest first"},
            {"count", "how many events are listed"},
            {"limited", "true when --limit cut older matches off"}},
       .findings = "never"});
  cmd->callback([&app, &f] {
    app.SetAction("audit.list", [&app, &f] {
      ops::AuditQuery query{std::nullopt, f.action, f.actor, f.limit};
      if (!f.since.empty()) {
        auto since = ops::ParseSince(f.since, SystemClock::Instance().Now());
        if (!since.ok()) return app.Fail(since.status());
        query.since = *since;
      }
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context();
      ops::OpReport report;
      auto list = ops::ListAuditEvents(ctx, query, report);
      app.Finish(report, list, [&app](const auto&, const auto& list, std::ostream& out) {
        RenderList(app, list, out);
      });
    });
  });
}

void RegisterVerify(AdminApp& app, CLI::App* audit) {
  auto& anchors = app.Make<std::vector<std::string>>();
  auto* cmd = audit->add_subcommand("verify", "Check the audit log's keyed hash chain");
  cmd->add_option("--anchor", anchors,
                  "Check that the log still reaches the row this anchor file names "
                  "(repeat for each host's file; default: audit_anchor_file)")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.Document(
      cmd,
      {.description = kVerifyDescription,
       .examples = {{"certctl-admin audit verify", "is the audit log intact?"},
                    {"certctl-admin audit verify --anchor /var/lib/certctl/audit.anchor "
                     "--anchor ./host-b.anchor",
                     "check against this host's anchor and one copied from host b"},
                    {"certctl-admin audit verify -o json", "every break, for a script"}},
       .json_data = {{"rows_checked", "rows examined"},
                     {"unkeyed_rows", "rows from before schema version 3 (unkeyed)"},
                     {"keyed_rows", "rows signed with an audit key"},
                     {"key_id", "the id of the audit key at hand (not the key)"},
                     {"head",
                      "the newest row: {id, seq, hash}, or null for an empty log"},
                     {"anchors", "the anchors checked: [{file, id, seq, written_at}]"},
                     {"intact", "true when there is no break that is not acknowledged"},
                     {"breaks",
                      "every break: [{kind, id (the row, or null), count, message, key, "
                      "acknowledged_by (event id or null), reason}]"},
                     {"unlisted_breaks", "breaks beyond the 10000 listed"},
                     {"acknowledged", "breaks acknowledged by audit anchor"},
                     {"first_broken_id",
                      "the row of the first break not acknowledged, or null"},
                     {"problem", "what is wrong there, or null"}},
       .findings = "the log has a break that is not acknowledged (audit.chain_broken); "
                   "acknowledged breaks, rows from before the key and a missing anchor "
                   "are warnings"});
  cmd->callback([&app, &anchors] {
    app.SetAction("audit.verify", [&app, &anchors] {
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context();
      ops::OpReport report;
      auto result = ops::VerifyAuditLog(ctx, report, {anchors});
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderVerify(app, r, result, out);
                 });
    });
  });
}

void RegisterAnchor(AdminApp& app, CLI::App* audit) {
  auto& f = app.Make<AnchorFlags>();
  auto* cmd = audit->add_subcommand(
      "anchor", "Acknowledge the audit log's breaks as a new signed event");
  cmd->add_option("--reason", f.reason,
                  "Why the breaks are accepted (recorded in the event)")
      ->type_name("TEXT")
      ->required();
  cmd->add_option("--anchor", f.anchors,
                  "Another anchor file to check and then point at the new event "
                  "(repeatable; the configured audit_anchor_file always is)")
      ->type_name("FILE")
      ->allow_extra_args(false);
  app.AddMutationFlags(cmd, f.mutation);
  app.Document(
      cmd, {.description = kAnchorDescription,
            .examples = {{"certctl-admin audit anchor --reason \"restored from the 03:00 "
                          "backup, incident 4711\" --dry-run",
                          "see what would be acknowledged"},
                         {"certctl-admin audit anchor --reason \"restored from the 03:00 "
                          "backup, incident 4711\" --yes",
                          "acknowledge it"}},
            .json_data = {{"acknowledged",
                           "the breaks acknowledged (or, dry run, that would be), as in "
                           "audit verify"},
                          {"anchors", "the anchor files now naming the new event"},
                          {"event_id", "the audit.anchor event written, or null"}},
            .findings = "never (errors have their own codes)",
            .mutating = true,
            .destructive = true});
  cmd->callback([&app, &f] {
    app.SetAction("audit.anchor", [&app, &f] {
      Status confirmed = app.Confirm(
          f.mutation, "Record the audit log's breaks as acknowledged, for good?");
      if (!confirmed.ok()) return app.Fail(confirmed);
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context(&f.mutation);
      ops::OpReport report;
      auto result = ops::AcknowledgeAuditBreaks(ctx, {f.reason, f.anchors}, report);
      app.Finish(report, result, [&app](const auto& r, const auto&, std::ostream& out) {
        PrintPlanStepsFindings(app, r, out);
      });
    });
  });
}

}  // namespace

void RegisterAuditCommands(AdminApp& app) {
  auto* audit = app.root().add_subcommand("audit", "Audit log: list, verify, anchor");
  audit->require_subcommand(1);
  RegisterList(app, audit);
  RegisterVerify(app, audit);
  RegisterAnchor(app, audit);
}

}  // namespace certctl::admin
