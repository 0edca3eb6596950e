// RequestTrustReload: `certctl-admin trust reload` asking the running
// certctld, through its admin API or SIGHUP.
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "certctl/ops/trust.h"
#include "certctl/util/files.h"

namespace certctl::ops {
namespace {

constexpr char kRequestAction[] = "trust.reload.request";

// The names to reload: the one asked for; else, in a dry run, every
// configured bundle, and in a real run "*" (certctld knows its own bundles).
Result<std::vector<std::string>> Targets(const OpContext& ctx,
                                         const TrustReloadRequest& request) {
  if (!request.name.empty()) return std::vector<std::string>{request.name};
  if (!ctx.dry_run) return std::vector<std::string>{"*"};
  std::vector<std::string> names;
  for (const auto& t : ctx.config.trust_anchors) names.push_back(t.name);
  if (names.empty()) {
    return Status::Configuration("no trust bundles are configured (trust_anchors in " +
                                 (ctx.config.source_path.empty()
                                      ? std::string("the config file")
                                      : ctx.config.source_path) +
                                 ")");
  }
  return names;
}

// Dry run: what certctld would make of each configured file right now.
void PlanReload(OpContext& ctx, const TrustReloadRequest& request,
                const std::vector<std::string>& names, OpReport& report) {
  std::string how = request.signal
                        ? "would signal certctld to reload"
                        : "would ask certctld at " + request.api_url + " to reload";
  for (const auto& name : names) {
    std::string path;
    for (const auto& t : ctx.config.trust_anchors) {
      if (t.name == name) path = t.path;
    }
    std::string verdict = "(not in this configuration)";
    if (!path.empty()) {
      auto check = CheckTrustBundleFile(path, ctx.clock.Now());
      verdict = check.ok() ? "(" + path +
                                 " checks out: " + std::to_string(check.entries.size()) +
                                 " certificate(s))"
                           : "(certctld would refuse " + path +
                                 " and keep the old bundle: " + check.message + ")";
    }
    report.plan.push_back(how + " " + name + " " + verdict);
  }
}

std::optional<TrustProblem> ProblemNamed(const std::string& name) {
  for (auto p : {TrustProblem::kUnreadable, TrustProblem::kGarbage, TrustProblem::kEmpty,
                 TrustProblem::kExpired, TrustProblem::kNotYetValid}) {
    if (TrustProblemName(p) == name) return p;
  }
  return std::nullopt;
}

// One bundle of certctld's answer (ToJson(TrustBundleReloaded) read back).
std::optional<TrustBundleReloaded> BundleFrom(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  TrustBundleReloaded b;
  b.name = j.value("name", "");
  b.path = j.value("path", "");
  if (j.contains("problem") && j["problem"].is_string()) {
    // A problem this version does not know is still a refusal.
    b.problem =
        ProblemNamed(j["problem"].get<std::string>()).value_or(TrustProblem::kGarbage);
  } else if (!j.value("reloaded", true)) {
    b.problem = TrustProblem::kGarbage;
  }
  b.message = j.value("message", "");
  b.certificates = j.value("certificates", int64_t{0});
  b.fingerprint = j.value("fingerprint", "");
  b.previous_fingerprint = j.value("previous_fingerprint", "");
  return b;
}

const nlohmann::json& Member(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNone = nlohmann::json::object();
  return j.is_object() && j.contains(key) && j[key].is_object() ? j[key] : kNone;
}

// The answer of POST /api/v1/admin/trust-anchors/{name}/reload: 200 with
// the document, 422 (refused) with {"error": {...}, "report": document}.
Status Interpret(const std::string& name, const net::HttpResponse& response,
                 TrustReload& result, OpReport& report) {
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  const nlohmann::json& document =
      body.is_object() && body.contains("report") ? Member(body, "report") : body;
  const nlohmann::json& data = Member(document, "data");
  if (data.contains("bundles") && data["bundles"].is_array()) {
    for (const auto& j : data["bundles"]) {
      if (auto b = BundleFrom(j)) result.bundles.push_back(std::move(*b));
    }
  }
  const nlohmann::json& error = Member(body, "error");
  std::string code = error.contains("code") && error["code"].is_string()
                         ? error["code"].get<std::string>()
                         : "";
  std::string message = error.contains("message") && error["message"].is_string()
                            ? error["message"].get<std::string>()
                            : response.body.substr(0, 200);
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

Status ReloadOverApi(OpContext& ctx, const TrustReloadRequest& request,
                     const std::vector<std::string>& names, TrustReload& result,
                     OpReport& report) {
  if (ctx.config.api_key.empty()) {
    return Status::Configuration(
        "no API key for certctld's admin API: set CERTCTL_API_KEY, CERTCTL_API_KEY_FILE "
        "or api_key_file (never on the command line)");
  }
  if (!request.client) return Status::Internal("RequestTrustReload without a client");
  Status first;
  for (const auto& name : names) {
    // "*" asks certctld to reload every bundle it has.
    std::string url = request.api_url + "/api/v1/admin/trust-anchors/" + name + "/reload";
    auto response = request.client->Post(
        url, "application/json", "{}",
        {{"Authorization", "Bearer " + std::string(ctx.config.api_key.view())}});
    Status s =
        response.ok() ? Interpret(name, *response, result, report) : response.status();
    if (first.ok() && !s.ok()) first = s;
    if (s.code() == StatusCode::kUnavailable ||
        s.code() == StatusCode::kDeadlineExceeded ||
        s.code() == StatusCode::kUnauthenticated) {
      break;  // the next bundle would fail the same way
    }
  }
  return first;
}

Status ReloadBySignal(const Config& config, OpReport& report) {
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

}  // namespace

Result<TrustReload> RequestTrustReload(OpContext& ctx, const TrustReloadRequest& asked,
                                       OpReport& report) {
  TrustReloadRequest request = asked;
  while (!request.api_url.empty() && request.api_url.back() == '/') {
    request.api_url.pop_back();
  }
  ASSIGN_OR_RETURN(auto names, Targets(ctx, request));
  MutationSpec spec{
      kRequestAction,
      request.name.empty() ? "*" : request.name,
      {{"bundles", names}, {"via", request.signal ? "SIGHUP" : request.api_url}},
      {}};
  TrustReload result;
  Status s = RunMutation(ctx, spec, report, [&]() -> Status {
    if (ctx.dry_run) {
      PlanReload(ctx, request, names, report);
      return Status::Ok();
    }
    if (request.signal) return ReloadBySignal(ctx.config, report);
    return ReloadOverApi(ctx, request, names, result, report);
  });
  // A refusal is the answer the operator asked for (an error finding with the
  // typed reason); the audit end event above still says "failed".
  if (s.code() == StatusCode::kFailedPrecondition && report.has_errors()) return result;
  if (!s.ok()) return s;
  return result;
}

}  // namespace certctl::ops
