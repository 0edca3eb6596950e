// RequestTrustReload: `certctl-admin trust reload` asking the running
// certctld, through its admin API or SIGHUP.
#include <nlohmann/json.hpp>
#include <optional>

#include "certctl/ops/trust.h"
#include "certctl/util/files.h"
#include "ops/trust_internal.h"

namespace certctl::ops {
namespace {

constexpr char kRequestAction[] = "trust.reload.request";

// The configured bundles a dry run checks: the one named (NotFound when it is
// not configured, as certctld would answer) or every one.
Result<std::vector<TrustAnchorConfig>> Configured(const OpContext& ctx,
                                                  const std::string& name) {
  if (name.empty()) return ctx.config.trust_anchors;
  for (const auto& t : ctx.config.trust_anchors) {
    if (t.name == name) return std::vector<TrustAnchorConfig>{t};
  }
  return Status::NotFound("no trust bundle named \"" + name + "\" is configured (" +
                          internal::TrustAnchorsSource(ctx.config) + ")");
}

// Dry run: what certctld would make of each configured file right now, in
// the same result and findings as its answer.
Status PlanReload(OpContext& ctx, const TrustReloadRequest& request,
                  const std::vector<TrustAnchorConfig>& bundles, TrustReload& result,
                  OpReport& report) {
  std::string how = request.signal
                        ? "would signal certctld to reload"
                        : "would ask certctld at " + request.api_url + " to reload";
  for (const auto& t : bundles) {
    TrustBundleCheck check = CheckTrustBundleFile(t.path, ctx.clock.Now());
    result.bundles.push_back({t.name, t.path, check.problem, check.message,
                              static_cast<int64_t>(check.entries.size()), "", ""});
    if (check.ok()) {
      report.plan.push_back(how + " " + t.name + " (" + t.path + " checks out: " +
                            std::to_string(check.entries.size()) + " certificate(s))");
      continue;
    }
    report.plan.push_back(how + " " + t.name + ", which it would refuse");
    report.AddFinding("error", "trust." + std::string(TrustProblemName(*check.problem)),
                      t.name,
                      "certctld would refuse " + t.path +
                          " and keep the previous bundle: " + check.message);
  }
  if (bundles.empty()) {
    internal::NoTrustBundles(internal::TrustAnchorsSource(ctx.config), report);
  }
  return result.refused() ? Status::FailedPrecondition(result.RefusalMessage())
                          : Status::Ok();
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
      if (auto b = internal::BundleFromJson(j)) result.bundles.push_back(std::move(*b));
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
    if (name == "*" && result.bundles.empty()) {
      internal::NoTrustBundles("certctld", report);
      return Status::Ok();
    }
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

}  // namespace

Result<TrustReload> RequestTrustReload(OpContext& ctx, const TrustReloadRequest& asked,
                                       OpReport& report) {
  TrustReloadRequest request = asked;
  while (!request.api_url.empty() && request.api_url.back() == '/') {
    request.api_url.pop_back();
  }
  std::vector<TrustAnchorConfig> configured;
  if (ctx.dry_run) {
    ASSIGN_OR_RETURN(configured, Configured(ctx, request.name));
  }
  std::vector<std::string> names{request.name.empty() ? "*" : request.name};
  // SIGHUP reaches certctld without the database; certctld audits what it does.
  MutationSpec spec{
      kRequestAction,
      names.front(),
      {{"bundles", names}, {"via", request.signal ? "SIGHUP" : request.api_url}},
      {},
      /*audit=*/!request.signal};
  TrustReload result;
  Status s = RunMutation(ctx, spec, report, [&]() -> Status {
    if (ctx.dry_run) return PlanReload(ctx, request, configured, result, report);
    if (request.signal) return internal::ReloadBySignal(ctx, request, result, report);
    return ReloadOverApi(ctx, request, names, result, report);
  });
  // A refusal is the answer the operator asked for (an error finding with the
  // typed reason); the audit end event above still says "failed".
  if (s.code() == StatusCode::kFailedPrecondition && report.has_errors()) return result;
  if (!s.ok()) return s;
  return result;
}

}  // namespace certctl::ops
