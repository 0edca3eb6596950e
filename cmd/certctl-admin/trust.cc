// certctl-admin trust: the runbook's "Trust-bundle reload semantics".
#include "certctl/ops/trust.h"

#include <signal.h>

#include <cerrno>
#include <cstring>

#include "certctl/util/files.h"
#include "commands.h"

namespace certctl::admin {
namespace {

constexpr char kRequestAction[] = "trust.reload.request";

struct ReloadFlags {
  std::string name;
  bool all = false;
  std::string url;
  bool signal = false;
  MutationFlags mutation;
};

void RenderCheck(const AdminApp& app, const ops::OpReport& r, std::ostream& out) {
  std::vector<std::vector<std::string>> rows{{"#", "SUBJECT", "NOT AFTER", "SHA-256"}};
  int i = 0;
  for (const auto& c : r.data.value("certificates", nlohmann::json::array())) {
    rows.push_back({std::to_string(++i), Cell(c["subject"]), Cell(c["not_after"]),
                    Cell(c["fingerprint_sha256"]).substr(0, 16) + "..."});
  }
  if (rows.size() > 1) PrintTable(out, rows);
  if (r.has_errors()) {
    for (const auto& f : r.findings) {
      out << app.PaintVerdict("refused") << ": " << Cell(r.data["problem"]) << ": "
          << f.message << "\n";
    }
  } else if (r.status.ok()) {
    out << app.PaintVerdict("ok") << ": " << (rows.size() - 1)
        << " certificate(s), all within their validity\n";
  }
}

void RenderReload(const AdminApp& app, const ops::OpReport& r, std::ostream& out) {
  PrintPlanStepsFindings(app, r, out);
  std::vector<std::vector<std::string>> rows{
      {"BUNDLE", "RESULT", "CERTIFICATES", "MESSAGE"}};
  for (const auto& b : r.data.value("bundles", nlohmann::json::array())) {
    bool reloaded = b.value("reloaded", false);
    rows.push_back({Cell(b.value("name", nlohmann::json())),
                    app.PaintVerdict(reloaded ? "ok" : "refused"),
                    Cell(b.value("certificates", nlohmann::json())),
                    Cell(b.value("message", nlohmann::json()))});
  }
  if (rows.size() > 1) PrintTable(out, rows);
}

// The names to reload: NAME, or every configured bundle.
Result<std::vector<std::string>> Targets(const ReloadFlags& f, const Config& config) {
  if (!f.name.empty()) return std::vector<std::string>{f.name};
  std::vector<std::string> names;
  for (const auto& t : config.trust_anchors) names.push_back(t.name);
  if (names.empty()) {
    return Status::Configuration("no trust bundles are configured (trust_anchors in " +
                                 (config.source_path.empty()
                                      ? std::string("the config file")
                                      : config.source_path) +
                                 ")");
  }
  return names;
}

// Dry run: what certctld would make of each configured file right now.
void PlanReload(ops::OpContext& ctx, const std::vector<std::string>& names,
                const std::string& how, ops::OpReport& report) {
  for (const auto& name : names) {
    std::string path;
    for (const auto& t : ctx.config.trust_anchors) {
      if (t.name == name) path = t.path;
    }
    std::string verdict = "(not in this configuration)";
    if (!path.empty()) {
      auto check = ops::CheckTrustBundleFile(path, ctx.clock.Now());
      verdict = check.ok() ? "(" + path +
                                 " checks out: " + std::to_string(check.entries.size()) +
                                 " certificate(s))"
                           : "(certctld would refuse " + path +
                                 " and keep the old bundle: " + check.message + ")";
    }
    report.plan.push_back(how + " " + name + " " + verdict);
  }
}

// The typed answer of POST /api/v1/admin/trust-anchors/{name}/reload.
Status Interpret(const std::string& name, const net::HttpResponse& response,
                 ops::OpReport& report) {
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (!body.is_object()) body = nlohmann::json::object();
  // 200: the report; 422 (refused): {"error": {...}, "report": {...}}.
  nlohmann::json data =
      Member(body.contains("report") ? Member(body, "report") : body, "data");
  if (data.contains("bundles") && data["bundles"].is_array()) {
    for (const auto& b : data["bundles"]) report.data["bundles"].push_back(b);
  }
  nlohmann::json error = Member(body, "error");
  std::string code = Cell(error.value("code", nlohmann::json("")));
  std::string message =
      error.contains("message") ? Cell(error["message"]) : response.body.substr(0, 200);
  int s = response.status;
  if (s >= 200 && s < 300) {
    report.steps.push_back(name == "*" ? "certctld reloaded every configured bundle"
                                       : "certctld reloaded " + name);
    return Status::Ok();
  }
  std::string what = "certctld answered " + std::to_string(s) +
                     (code.empty() ? "" : " " + code) + ": " + message;
  if (s == 401)
    return Status::Unauthenticated(what + " (check CERTCTL_API_KEY / api_key_file)");
  if (s == 403)
    return Status::PermissionDenied(what + " (the API key needs the admin role)");
  if (s == 404) return Status::NotFound(what);
  if (s >= 500) return Status::Unavailable(what);
  // Refused: the bundle is bad and the old pool stays in place. The code
  // names the problem ("trust.garbage", "trust.expired", ...).
  report.AddFinding("error", code.rfind("trust.", 0) == 0 ? code : "trust.refused", name,
                    what + "; the previous bundle stays in place");
  return Status::FailedPrecondition("certctld refused to reload " + name);
}

Status ReloadOverApi(AdminApp& app, ops::OpContext& ctx,
                     const std::vector<std::string>& names, const std::string& base,
                     ops::OpReport& report) {
  if (ctx.config.api_key.empty()) {
    return Status::Configuration(
        "no API key for certctld's admin API: set CERTCTL_API_KEY, CERTCTL_API_KEY_FILE "
        "or api_key_file (never on the command line)");
  }
  ASSIGN_OR_RETURN(auto client, app.HttpClientFor(ctx.config));
  Status first;
  for (const auto& name : names) {
    // "*" asks certctld to reload every bundle it has.
    std::string url = base + "/api/v1/admin/trust-anchors/" + name + "/reload";
    auto response = client.Post(
        url, "application/json", "{}",
        {{"Authorization", "Bearer " + std::string(ctx.config.api_key.view())}});
    Status s = response.ok() ? Interpret(name, *response, report) : response.status();
    if (first.ok() && !s.ok()) first = s;
    if (s.code() == StatusCode::kUnavailable ||
        s.code() == StatusCode::kDeadlineExceeded ||
        s.code() == StatusCode::kUnauthenticated) {
      break;  // the next bundle would fail the same way
    }
  }
  return first;
}

Status ReloadBySignal(const Config& config, ops::OpReport& report) {
  if (config.pid_file.empty()) {
    return Status::Configuration(
        "--signal needs pid_file (CERTCTL_PID_FILE) in the configuration");
  }
  auto text = ReadFile(config.pid_file);
  if (!text.ok()) {
    return Status::Unavailable("cannot read certctld's pid file " + config.pid_file +
                               ": " + text.status().message() +
                               " (is certctld running?)");
  }
  int pid = std::atoi(text->c_str());
  if (pid <= 1)
    return Status::Unavailable("pid file " + config.pid_file + " holds no pid");
  if (::kill(pid, SIGHUP) != 0) {
    int err = errno;
    if (err == EPERM) {
      return Status::PermissionDenied("not allowed to signal certctld (pid " +
                                      std::to_string(pid) + "): run as its user or root");
    }
    return Status::Unavailable("cannot signal certctld (pid " + std::to_string(pid) +
                               "): " + std::strerror(err));
  }
  report.steps.push_back("sent SIGHUP to certctld (pid " + std::to_string(pid) +
                         "); it reloads every bundle and logs and audits each result "
                         "(certctl-admin audit list --action trust.reload)");
  return Status::Ok();
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
      (void)ops::CheckTrustBundleReport(path, SystemClock::Instance().Now(), report);
      app.Finish(report, [&app](const ops::OpReport& r, std::ostream& out) {
        RenderCheck(app, r, out);
      });
    });
  });
}

void RunReload(AdminApp& app, ReloadFlags& f) {
  auto env = app.Open();
  if (!env.ok()) return app.Fail(env.status());
  auto ctx = (*env)->Context(&f.mutation);
  // The configured names matter for the plan of a dry run; a real run asks
  // certctld, which knows its own bundles ("*": all of them).
  auto names = f.mutation.dry_run
                   ? Targets(f, ctx.config)
                   : Result<std::vector<std::string>>(
                         std::vector<std::string>{f.name.empty() ? "*" : f.name});
  if (!names.ok()) return app.Fail(names.status());
  std::string base = f.url.empty() ? AdminApp::AdminApiUrl(ctx.config) : f.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  ops::MutationSpec spec{kRequestAction,
                         f.name.empty() ? "*" : f.name,
                         {{"bundles", *names}, {"via", f.signal ? "SIGHUP" : base}},
                         {}};
  ops::OpReport report;
  report.data["bundles"] = nlohmann::json::array();
  (void)ops::RunMutation(ctx, spec, report, [&]() -> Status {
    if (ctx.dry_run) {
      PlanReload(ctx, *names,
                 f.signal ? "would signal certctld to reload"
                          : "would ask certctld at " + base + " to reload",
                 report);
      return Status::Ok();
    }
    if (f.signal) return ReloadBySignal(ctx.config, report);
    return ReloadOverApi(app, ctx, *names, base, report);
  });
  // A refusal is the answer the operator asked for (exit 1 with the typed
  // reason as a finding); the audit end event above still says "failed".
  if (report.status.code() == StatusCode::kFailedPrecondition && report.has_errors()) {
    report.status = Status::Ok();
  }
  app.Finish(report, [&app](const ops::OpReport& r, std::ostream& out) {
    RenderReload(app, r, out);
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
