// certctl-admin audit: evidence for auditors.
#include "certctl/ops/audit_ops.h"
#include "commands.h"

namespace certctl::admin {
namespace {

struct ListFlags {
  std::string since;
  std::string action;
  std::string actor;
  int limit = 1000;
};

void RenderList(const AdminApp& app, const ops::OpReport& r, std::ostream& out) {
  std::vector<std::vector<std::string>> rows{
      {"ID", "TIME", "ACTOR", "HOST", "ACTION", "TARGET", "OUTCOME", "MS", "DETAIL"}};
  for (const auto& e : r.data.value("events", nlohmann::json::array())) {
    std::string outcome = e.value("outcome", "");
    rows.push_back({Cell(e["id"]), Cell(e["occurred_at"]), Cell(e["actor"]),
                    Cell(e["host"]), Cell(e["action"]), Cell(e["target"]),
                    outcome == "failed" ? app.Paint(outcome, Colour::kRed) : outcome,
                    Cell(e["duration_ms"]), Cell(e["detail"])});
  }
  if (rows.size() == 1) {
    out << "no matching audit events\n";
    return;
  }
  PrintTable(out, rows);
  if (r.data.value("limited", false)) {
    out << "(older matches not shown; raise --limit or narrow --since)\n";
  }
}

void RenderVerify(const AdminApp& app, const ops::OpReport& r, std::ostream& out) {
  if (!r.status.ok()) return;
  if (r.data.value("intact", false)) {
    out << app.PaintVerdict("intact") << ": " << Cell(r.data["rows_checked"])
        << " audit events, every link of the hash chain verifies\n";
    return;
  }
  out << app.PaintVerdict("broken") << ": the hash chain breaks at audit event "
      << Cell(r.data["first_broken_id"]) << " (after " << Cell(r.data["rows_checked"])
      << " rows checked): " << Cell(r.data["problem"]) << "\n";
}

void RegisterList(AdminApp& app, CLI::App* audit) {
  auto& f = app.Make<ListFlags>();
  auto* cmd = audit->add_subcommand("list", "Show audit events");
  cmd->add_option("--since", f.since,
                  "Only events at or after this time (2026-11-27T17:00:00Z, 2026-11-27) "
                  "or within this long back from now (24h, 7d)")
      ->type_name("WHEN");
  cmd->add_option("--action", f.action, "Only this action, e.g. crl.regenerate")
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
      (void)ops::ListAuditEvents(ctx, query, report);
      app.Finish(report, [&app](const ops::OpReport& r, std::ostream& out) {
        RenderList(app, r, out);
      });
    });
  });
}

void RegisterVerify(AdminApp& app, CLI::App* audit) {
  auto* cmd = audit->add_subcommand("verify", "Check the hash chain of the audit log");
  app.Document(
      cmd,
      {.description = "Walks the whole audit log in order and recomputes every row's "
                      "hash from its content and the previous row's hash. A row that was "
                      "modified, removed or inserted out of band breaks the chain; the "
                      "command reports the first broken link and what is wrong there. It "
                      "only reads, with a cursor, so a long log needs little memory.",
       .examples = {{"certctl-admin audit verify", "is the audit log intact?"}},
       .json_data = {{"rows_checked", "rows examined"},
                     {"intact", "true when every link verifies"},
                     {"first_broken_id",
                      "the id of the first row that does not verify, or null"},
                     {"problem", "what is wrong at that row, or null"}},
       .findings = "the chain is broken (audit.chain_broken)"});
  cmd->callback([&app] {
    app.SetAction("audit.verify", [&app] {
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context();
      ops::OpReport report;
      (void)ops::VerifyAuditLog(ctx, report);
      app.Finish(report, [&app](const ops::OpReport& r, std::ostream& out) {
        RenderVerify(app, r, out);
      });
    });
  });
}

}  // namespace

void RegisterAuditCommands(AdminApp& app) {
  auto* audit = app.root().add_subcommand("audit", "Audit log: list, verify");
  audit->require_subcommand(1);
  RegisterList(app, audit);
  RegisterVerify(app, audit);
}

}  // namespace certctl::admin
