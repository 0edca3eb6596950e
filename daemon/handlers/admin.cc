// POST /api/v1/admin/trust-anchors/{name}/reload: the same ReloadTrustAnchors
// that SIGHUP and `certctl-admin trust reload` use.
#include "certctl/ops/trust.h"
#include "daemon/handlers/common.h"
#include "daemon/handlers/handlers.h"

namespace certctl::daemon::handlers {

HttpResponse ReloadTrustAnchor(const HttpRequest& req, App& app) {
  auto actor = ApiActorFor(req, app);
  if (!actor.ok()) return ErrorResponse(actor.status());
  std::string name = req.Param("name");
  if (name == "*") name.clear();
  ops::OpContext ctx = app.Context(*actor);
  ops::OpReport report;
  Status s = ops::ReloadTrustAnchors(ctx, app.trust(), name, report);
  if (s.ok()) {
    app.logger()->info("{} reloaded trust bundle {}", actor->name,
                       name.empty() ? "*" : name);
    return JsonResponse(200, report.ToJson());
  }
  if (s.code() != StatusCode::kFailedPrecondition) return ErrorResponse(s);
  // A refused bundle: the old pool stays; the code names the problem of the
  // first refused bundle so that a client can tell garbage from expiry.
  std::string code = "trust.refused";
  for (const auto& b : report.data.value("bundles", nlohmann::json::array())) {
    if (b.value("reloaded", true) == false && b["problem"].is_string()) {
      code = "trust." + b["problem"].get<std::string>();
      break;
    }
  }
  app.logger()->warn("{}: trust bundle reload refused, the previous bundle stays: {}",
                     actor->name, s.message());
  HttpResponse r =
      JsonResponse(422, {{"error", {{"code", code}, {"message", s.message()}}},
                         {"report", report.ToJson()}});
  return r;
}

}  // namespace certctl::daemon::handlers
