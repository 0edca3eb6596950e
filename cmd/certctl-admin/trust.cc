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
       .findings = "the bundle would be refused (one error finding trust.<problem>)"});
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
  auto env = app.Open();
  if (!env.ok()) return app.Fail(env.status());
  auto ctx = (*env)->Context(&f.mutation);
  std::optional<net::HttpClient> client;
  if (!f.signal && !f.mutation.dry_run) {
    auto made = app.HttpClientFor(ctx.config);
    if (!made.ok()) return app.Fail(made.status());
    client = std::move(made).value();
  }
  ops::TrustReloadRequest request{
      f.name, f.url.empty() ? AdminApp::AdminApiUrl(ctx.config) : f.url, f.signal,
      client ? &*client : nullptr};
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
      cmd->add_option("NAME", f.name, "The configured bundle name (default: all)")
          ->type_name("");
  cmd->add_flag("--all", f.all, "Every configured bundle (the default)")->excludes(name);
  cmd->add_option(
         "--url", f.url,
         "certctld's admin API (default: https://<listen_api> from the configuration)")
      ->type_name("URL");
  cmd->add_flag("--signal", f.signal,
                "Send SIGHUP to the pid in pid_file instead of calling the API (reloads "
                "every bundle; the result is only in certctld's log and audit events)");
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
           "reloads every bundle and records each result in its log and the audit log. "
           "With --dry-run nothing is sent: each configured file is checked locally and "
           "the plan says what certctld would do.",
       .examples = {{"certctl-admin trust reload est-clients", "reload one bundle"},
                    {"certctl-admin trust reload --all --dry-run",
                     "would certctld accept the files as they are now?"},
                    {"certctl-admin trust reload --signal", "the SIGHUP fallback"}},
       .json_data = {{"bundles",
                      "[{name, path, reloaded, problem, message, certificates, "
                      "fingerprint, previous_fingerprint}] as certctld answered"}},
       .findings = "certctld refused a bundle (trust.<problem>); the previous bundle "
                   "stays in place",
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
