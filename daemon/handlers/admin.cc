// POST /api/v1/admin/trust-anchors/{name}/reload: the same ReloadTrustAnchors
// that SIGHUP uses (and `certctl-admin trust reload` asks for).
#include "certctl/ops/op_json.h"
#include "certctl/ops/trust.h"
#include "certctl/ops/trust_json.h"
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
  auto reload = ops::ReloadTrustAnchors(ctx, app.trust(), name, report);
  if (!reload.ok()) return ErrorResponse(reload.status());
  if (!reload->refused()) {
    app.logger()->info("{} reloaded trust bundle {}", actor->name,
                       name.empty() ? "*" : name);
    return JsonResponse(200, ops::ReportJson(report, reload));
  }
  // A refused bundle: the old pool stays; the code names the problem of the
  // first refused bundle so that a client can tell garbage from expiry.
  std::string code = "trust.refused";
  for (const auto& b : reload->bundles) {
    if (b.problem) {
      code = "trust." + std::string(ops::TrustProblemName(*b.problem));
      break;
    }
  }
  std::string message = reload->RefusalMessage();
  app.logger()->warn("{}: trust bundle reload refused, the previous bundle stays: {}",
                     actor->name, message);
  return JsonResponse(
      422, {{"error", {{"code", code}, {"message", message}}},
            {"report", ops::ReportJson(report, Status::FailedPrecondition(message),
                                       ops::JsonParts(*reload))}});
}

}  // namespace certctl::daemon::handlers
