// certctl-admin trust: the runbook's "Trust-bundle reload semantics".
#include "certctl/ops/trust.h"

#include <optional>

#include "certctl/ops/trust_json.h"
#include "certctl/util/time_format.h"
#include "commands.h"

namespace certctl::admin {
namespace {

struct ReloadFlags {
  std::string name;
  bool all = false;
  std::string url;
  bool signal = false;
  MutationFlags mutation;
};

void RenderCheck(const AdminApp& app, const ops::OpReport& r,
                 const Result<ops::TrustBundleChecked>& result, std::ostream& out) {
  if (!result.ok()) return;
  const ops::TrustBundleCheck& check = result->check;
  std::vector<std::vector<std::string>> rows{{"#", "SUBJECT", "NOT AFTER", "SHA-256"}};
  int i = 0;
  for (const auto& c : check.entries) {
    rows.push_back({std::to_string(++i), c.subject, FormatRfc3339(c.not_after),
                    c.fingerprint_sha256.substr(0, 16) + "..."});
  }
  if (rows.size() > 1) PrintTable(out, rows);
  if (r.has_errors()) {
    for (const auto& f : r.findings) {
      out << app.PaintVerdict("refused") << ": "
          << (check.problem ? ops::TrustProblemName(*check.problem) : "-") << ": "
          << f.message << "\n";
    }
  } else {
    out << app.PaintVerdict("ok") << ": " << (rows.size() - 1)
        << " certificate(s), all within their validity\n";
  }
}

void RenderReload(const AdminApp& app, const ops::OpReport& r,
                  const Result<ops::TrustReload>& result, std::ostream& out) {
  PrintPlanStepsFindings(app, r, out);
  if (!result.ok()) return;
  std::vector<std::vector<std::string>> rows{
      {"BUNDLE", "RESULT", "CERTIFICATES", "MESSAGE"}};
  for (const auto& b : result->bundles) {
    rows.push_back({b.name, app.PaintVerdict(b.reloaded() ? "ok" : "refused"),
                    std::to_string(b.certificates), b.message});
  }
  if (rows.size() > 1) PrintTable(out, rows);
}

void RegisterCheck(AdminApp& app, CLI::App* trust) {
  auto& path = app.Make<std::string>();
  auto* cmd =
      trust->add_subcommand("check", "Check a PEM trust bundle before installing it");
  cmd->add_option("FILE", path, "The PEM bundle to check")->required()->type_name("");
  app.Document(
      cmd,
      {.description =
           "Parses a PEM trust bundle the way certctld's reload does and lists its "
           "certificates (subject, validity, SHA-256 fingerprint). It refuses, with the "
           "exact reason naming the offending entry, an unreadable or empty file, "
           "anything that is not a certificate (garbage), and expired or not-yet-valid "
           "certificates.\n\nRun it on a new bundle before overwriting the configured "
           "file; it replaces the runbook's `openssl x509 -in trust.pem -noout -text`. "
           "It needs neither the database nor a running certctld.",
       .examples = {{"certctl-admin trust check /etc/certctl/est-clients.pem.new",
                     "is the new bundle acceptable?"}},
       .json_data = {{"path", "the file checked"},
                     {"certificates",
                      "[{subject, issuer, serial, fingerprint_sha256, not_before, "
                      "not_after}]: what parsed, in order"},
                     {"problem",
                      "null, or unreadable, garbage, empty, expired, not_yet_valid"},
                     {"message", "the exact reason, naming the entry"}},
       .findings = "the bundle would be refused (one error finding trust.<problem>)",
       .exit_status = {{69, ""}, {78, ""}}});
  cmd->callback([&app, &path] {
    app.SetAction("trust.check", [&app, &path] {
      ops::OpReport report;
      auto result =
          ops::CheckTrustBundleReport(path, SystemClock::Instance().Now(), report);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderCheck(app, r, result, out);
                 });
    });
  });
}

void RunReload(AdminApp& app, ReloadFlags& f) {
  // Only a request through the API is audited here (certctld audits the
  // reload itself): a signal or a dry run does not need the database.
  bool via_api = !f.signal && !f.mutation.dry_run;
  auto env = app.Open({.connect = via_api});
  if (!env.ok()) return app.Fail(env.status());
  auto ctx = (*env)->Context(&f.mutation);
  std::optional<net::HttpClient> client;
  if (via_api) {
    auto made = app.HttpClientFor(ctx.config);
    if (!made.ok()) return app.Fail(made.status());
    client = std::move(made).value();
  }
  auto timeout = ParseDuration(app.globals().timeout);
  ops::TrustReloadRequest request{
      f.name, f.url.empty() ? AdminApp::AdminApiUrl(ctx.config) : f.url, f.signal,
      client ? &*client : nullptr,
      timeout.ok() ? std::chrono::milliseconds(*timeout) : std::chrono::seconds(10)};
  ops::OpReport report;
  auto result = ops::RequestTrustReload(ctx, request, report);
  app.Finish(report, result,
             [&app](const auto& r, const auto& result, std::ostream& out) {
               RenderReload(app, r, result, out);
             });
}

void RegisterReload(AdminApp& app, CLI::App* trust) {
  auto& f = app.Make<ReloadFlags>();
  auto* cmd =
      trust->add_subcommand("reload", "Ask the running certctld to reload trust bundles");
  auto* name =
      app.CompleteWith(
             cmd->add_option("NAME", f.name, "The configured bundle name (default: all)"),
             kTrustBundleNames)
          ->type_name("");
  cmd->add_flag("--all", f.all, "Every configured bundle (the default)")->excludes(name);
  cmd->add_option(
         "--url", f.url,
         "certctld's admin API (default: https://<listen_api> from the configuration)")
      ->type_name("URL");
  cmd->add_flag("--signal", f.signal,
                "Send SIGHUP to the pid in pid_file instead of calling the API (certctld "
                "reloads every bundle) and wait up to --timeout for its outcome");
  app.AddMutationFlags(cmd, f.mutation, /*locked=*/false);
  app.Document(
      cmd,
      {.description =
           "Asks the running certctld to reload trust bundles through its admin API "
           "(POST /api/v1/admin/trust-anchors/NAME/reload, authenticated with the "
           "configured API key) and prints its typed answer. The reload is atomic: a bad "
           "bundle (unreadable, garbage, empty, expired or not yet valid) is refused "
           "with the reason and the old pool stays in place, so the endpoint never goes "
           "down; fix the file and retry.\n\nWith --signal the command sends SIGHUP to "
           "the pid in pid_file instead, like the runbook's `kill -HUP`; certctld then "
           "reloads every bundle (and its TLS certificate), logs and audits each result "
           "and records the outcome in <pid_file>.reload, which the command waits for "
           "(up to --timeout) and reports like the API's answer. With --dry-run nothing "
           "is sent: each configured file is checked as certctld would check it, and the "
           "result, findings and exit status are what certctld's answer would "
           "be.\n\nNeither --signal nor --dry-run needs the database: certctld audits "
           "every reload itself (a signalled one with the command line SIGHUP); a "
           "request through the API is audited here too (trust.reload.request), with "
           "the actor.",
       .examples = {{"certctl-admin trust reload est-clients", "reload one bundle"},
                    {"certctl-admin trust reload --all --dry-run",
                     "would certctld accept the files as they are now?"},
                    {"certctl-admin trust reload --signal", "the SIGHUP fallback"}},
       .json_data = {{"bundles",
                      "[{name, path, reloaded, problem, message, certificates, "
                      "fingerprint, previous_fingerprint}] as certctld answered (with "
                      "--dry-run: as it would, without fingerprints)"}},
       .findings = "certctld refused a bundle (trust.<problem>); the previous bundle "
                   "stays in place",
       .exit_status =
           {{0,
             "every bundle was reloaded (with --dry-run: certctld would accept every "
             "file as it is now); also when none is configured, which a warning finding "
             "trust.none_configured says"},
            {1,
             "certctld refused a bundle and keeps the previous one (with --dry-run: "
             "would refuse it): an error finding trust.<problem>"},
            {2,
             "usage error, or no bundle of that name (at certctld; with --dry-run, in "
             "the configuration)"},
            {69,
             "certctld could not be reached, did not report a signalled reload within "
             "--timeout, or could not write its audit event; through the API also when "
             "the database could not be reached"},
            {78,
             "no API key (CERTCTL_API_KEY), no pid_file for --signal, the API key was "
             "refused, or another configuration error"}},
       .mutating = true,
       .locked = false});
  cmd->callback(
      [&app, &f] { app.SetAction("trust.reload", [&app, &f] { RunReload(app, f); }); });
}

}  // namespace

void RegisterTrustCommands(AdminApp& app) {
  auto* trust = app.root().add_subcommand("trust", "Trust bundles: check, reload");
  trust->require_subcommand(1);
  RegisterCheck(app, trust);
  RegisterReload(app, trust);
}

}  // namespace certctl::admin
