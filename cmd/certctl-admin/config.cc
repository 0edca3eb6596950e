// certctl-admin config: what certctld would say about its configuration.
#include "certctl/ops/config_check.h"
#include "certctl/ops/config_check_json.h"
#include "certctl/util/process.h"
#include "commands.h"

namespace certctl::admin {
namespace {

struct ConfigCheckFlags {
  bool restart = false;
};

void RenderCheck(const AdminApp& app, const Result<ops::ConfigChecked>& result,
                 std::ostream& out) {
  if (!result.ok()) return;
  std::vector<std::vector<std::string>> rows{{"CHECK", "STATE", "SUBJECT", "MESSAGE"}};
  for (const auto& c : result->checks) {
    rows.push_back({c.name, app.PaintVerdict(ops::StartupCheckStateName(c.state)),
                    c.subject, c.message});
  }
  PrintTable(out, rows);
  out << "\n";
  if (result->would_start) {
    out << "certctld would start with this configuration\n";
    return;
  }
  for (const auto& c : result->checks) {
    if (c.state != ops::StartupCheckState::kError) continue;
    out << app.Paint("certctld would refuse to start: ", Colour::kRed) << c.message
        << "\n";
    return;
  }
}

void RegisterCheck(AdminApp& app, CLI::App* group) {
  auto& flags = app.Make<ConfigCheckFlags>();
  auto* check = group->add_subcommand(
      "check", "Check what certctld checks at start-up, without starting it");
  check->add_flag("--restart", flags.restart,
                  "The running certctld is about to be restarted: its listen addresses "
                  "being in use is a warning, not an error");
  app.Document(
      check,
      {.description =
           "Runs every check certctld makes before it serves, in the same order and "
           "through the same functions, without starting it and without changing "
           "anything: the CA files are configured; the database is reachable and its "
           "schema current; the audit key is the one the log is signed with; the "
           "configured CA certificate and key are one of the database's CA generations "
           "(the check certctld uses to refuse a CA replaced by hand) and the active "
           "generation's key file loads and matches; each trust bundle loads; the "
           "HTTPS certificate and key load and match, and no key file is readable by "
           "others (0600); and both listen addresses are free (bound for a moment and "
           "let go).\n\nRun it before restarting certctld after any change to its "
           "configuration, its CA files or the database. Exit 0: certctld would start; "
           "1: it would refuse, and the first error is the message it would print. A "
           "configuration file or variable that does not parse is exit 78, naming the "
           "key, as certctld says it. With --restart, the addresses the running "
           "certctld holds are expected to be in use.",
       .examples = {{"certctl-admin config check", "would certctld start now?"},
                    {"certctl-admin --config /etc/certctl/certctl.yaml.new config check "
                     "--restart",
                     "check a new configuration before restarting the running certctld"},
                    {"certctl-admin -o json config check", "the same, for scripts"}},
       .json_data = {{"config_file", "the YAML file read (empty: environment only)"},
                     {"checks",
                      "[{name, subject, state, message}] in start-up order; state is "
                      "ok, warning, error (certctld would refuse to start) or skipped"},
                     {"would_start", "true when no check is an error"}},
       .findings = "certctld would refuse to start (an error finding config.<check> "
                   "naming the key, file or address)"});
  check->callback([&app, &flags] {
    app.SetAction("config.check", [&app, &flags] {
      auto config = app.LoadConfiguration();
      if (!config.ok()) return app.Fail(config.status());
      ops::Actor actor{app.globals().actor.empty() ? InvokingUser() : app.globals().actor,
                       HostName(), "certctl-admin", ""};
      ops::OpReport report;
      auto result =
          ops::CheckConfiguration(*config, SystemClock::Instance(), actor,
                                  {.addresses_in_use_expected = flags.restart}, report);
      app.Finish(report, result,
                 [&app](const ops::OpReport&, const Result<ops::ConfigChecked>& r,
                        std::ostream& out) { RenderCheck(app, r, out); });
    });
  });
}

}  // namespace

void RegisterConfigCommands(AdminApp& app) {
  auto* group = app.root().add_subcommand(
      "config", "certctld's configuration: check it before a restart");
  group->require_subcommand(1);
  RegisterCheck(app, group);
}

}  // namespace certctl::admin
