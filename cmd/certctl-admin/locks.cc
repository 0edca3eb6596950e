// certctl-admin locks: who holds which operation lock, and releasing the lock
// of a holder that is gone.
#include "certctl/ops/lock_json.h"
#include "certctl/ops/lock_ops.h"
#include "certctl/util/time_format.h"
#include "commands.h"

namespace certctl::admin {
namespace {

std::string StateCell(const AdminApp& app, ops::HolderState state) {
  std::string name(ops::HolderStateName(state));
  switch (state) {
    case ops::HolderState::kAlive:
      return app.Paint(name, Colour::kGreen);
    case ops::HolderState::kGone:
      return app.Paint(name, Colour::kRed);
    case ops::HolderState::kUnknown:
      return app.Paint(name, Colour::kYellow);
  }
  return name;
}

void RenderList(const AdminApp& app, const ops::OpReport& r,
                const Result<ops::OperationLocks>& result, std::ostream& out) {
  if (!result.ok()) return;
  if (result->locks.empty()) {
    out << "no operation lock is held\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{
      {"NAME", "HOLDER", "PID", "HOST", "SINCE", "ALIVE"}};
  for (const auto& l : result->locks) {
    rows.push_back({l.name, l.holder, std::to_string(l.pid), l.host,
                    l.since ? FormatRfc3339(*l.since) : "-", StateCell(app, l.state)});
  }
  PrintTable(out, rows);
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.subject << ": " << f.message << "\n";
  }
}

void RegisterList(AdminApp& app, CLI::App* locks) {
  auto* cmd = locks->add_subcommand("list", "Show the operation locks held now");
  app.Document(
      cmd,
      {.description =
           "Lists every operation lock held now: its name (crl:ISSUER, "
           "ocsp-responder:ISSUER, ...), the holder (program, operation and actor), its "
           "process id and host, since when, and whether the holder is still alive. "
           "Alive is decided for a holder on this host by its process id (a process "
           "that started after the lock was taken only reuses the id: gone); for a "
           "holder on another host it is unknown, check there.\n\nA lock is a "
           "PostgreSQL advisory lock held by the holder's database session, so it is "
           "released when that session ends. A holder that is gone while its lock is "
           "still held (its host lost power, a network that drops instead of resets "
           "connections) is a warning: `certctl-admin locks release NAME` frees it. It "
           "only reads.",
       .examples = {{"certctl-admin locks list", "who holds what?"},
                    {"certctl-admin locks list -o json", "the same, for a script"}},
       .json_data = {{"host", "this host, against which holders are checked"},
                     {"locks",
                      "[{name, holder, host, pid, backend_pid, since, state (alive, "
                      "gone or unknown), state_reason}]"}},
       .findings = "never (a holder that is gone is a warning, lock.holder_gone)"});
  cmd->callback([&app] {
    app.SetAction("locks.list", [&app] {
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context();
      ops::OpReport report;
      auto result = ops::ListOperationLocks(ctx, report);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderList(app, r, result, out);
                 });
    });
  });
}

struct ReleaseFlags {
  std::string name;
  bool force = false;
  MutationFlags mutation;
};

void RegisterRelease(AdminApp& app, CLI::App* locks) {
  auto& f = app.Make<ReleaseFlags>();
  auto* cmd = locks->add_subcommand("release", "Free the lock of a holder that is gone");
  app.CompleteWith(cmd->add_option("NAME", f.name, "The lock, as `locks list` names it"),
                   kLockNames)
      ->required()
      ->type_name("");
  cmd->add_flag("--force", f.force,
                "Also when the holder runs on another host, which cannot be checked "
                "from here (make sure that process is gone)");
  app.AddMutationFlags(cmd, f.mutation, /*locked=*/false);
  app.Document(
      cmd,
      {.description =
           "Frees operation lock NAME when its holder is gone: it ends the database "
           "session that holds the lock (pg_terminate_backend), which releases it, and "
           "waits until the lock is free. It refuses, exit 75, while the holder runs on "
           "this host (it lets go when it ends; stop it first if it hangs), and for a "
           "holder on another host unless --force says that you know it is gone. Only "
           "that one session is ended.\n\nThe release is audited (locks.release, with "
           "the holder). It ends another program's database session, so it asks for "
           "confirmation.",
       .examples = {{"certctl-admin locks release crl:iss-local --dry-run",
                     "what would be ended?"},
                    {"certctl-admin locks release crl:iss-local --yes",
                     "free the lock of a crashed run"}},
       .json_data = {{"lock", "the lock as it was, as in `locks list`"},
                     {"released", "whether it was freed (false in a dry run)"}},
       .findings = "never",
       .exit_status = {{0, "the lock was freed (with --dry-run: would be)"},
                       {2, "usage error, or no one holds lock NAME"},
                       {75,
                        "the holder is alive on this host, or runs on another host and "
                        "--force was not given; nothing was changed"}},
       .mutating = true,
       .destructive = true,
       .locked = false});
  cmd->callback([&app, &f] {
    app.SetAction("locks.release", [&app, &f] {
      Status confirmed = app.Confirm(
          f.mutation, "End the database session holding lock " + f.name + "?");
      if (!confirmed.ok()) return app.Fail(confirmed);
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context(&f.mutation);
      ops::OpReport report;
      auto result = ops::ReleaseOperationLock(ctx, f.name, f.force, report);
      app.Finish(report, result, [&app](const auto& r, const auto&, std::ostream& out) {
        PrintPlanStepsFindings(app, r, out);
      });
    });
  });
}

}  // namespace

void RegisterLockCommands(AdminApp& app) {
  auto* locks = app.root().add_subcommand("locks", "Operation locks: list, release");
  locks->require_subcommand(1);
  RegisterList(app, locks);
  RegisterRelease(app, locks);
}

}  // namespace certctl::admin
