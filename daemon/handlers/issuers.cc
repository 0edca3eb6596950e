// GET /api/v1/issuers and GET /api/v1/audit.
#include "certctl/ops/audit_json.h"
#include "certctl/ops/audit_ops.h"
#include "certctl/ops/certificate_ops.h"
#include "certctl/ops/issuer_ops.h"
#include "certctl/util/time_format.h"
#include "daemon/handlers/common.h"
#include "daemon/handlers/handlers.h"

namespace certctl::daemon::handlers {
namespace {

using nlohmann::json;

json GenerationJson(const CaGenerationRecord& g, const Config& config) {
  return {
      {"generation", g.generation},
      {"state", std::string(GenerationStateName(g.state))},
      {"subject", g.subject},
      {"cert_sha256", g.cert_sha256},
      {"not_before", FormatRfc3339(g.not_before)},
      {"not_after", FormatRfc3339(g.not_after)},
      {"retired_at", g.retired_at ? json(FormatRfc3339(*g.retired_at)) : json(nullptr)},
      {"crl_url", ops::CrlUrl(config, g.issuer_id, g.generation)}};
}

}  // namespace

HttpResponse ListIssuers(const HttpRequest& req, App& app) {
  auto query = QueryParams(req, {});
  if (!query.ok()) return ErrorResponse(query.status());
  ops::OpContext ctx = app.Context(app.DaemonActor());
  auto issuers = ops::ListIssuers(ctx);
  if (!issuers.ok()) return ErrorResponse(issuers.status());
  const Config& config = app.config();
  json items = json::array();
  for (const auto& v : *issuers) {
    json generations = json::array();
    for (const auto& g : v.generations) generations.push_back(GenerationJson(g, config));
    items.push_back({{"id", v.issuer.id},
                     {"display_name", v.issuer.display_name},
                     {"revocation_epoch", v.issuer.revocation_epoch},
                     {"created_at", FormatRfc3339(v.issuer.created_at)},
                     {"crl_url", ops::CrlUrl(config, v.issuer.id)},
                     {"ocsp_url", ops::OcspUrl(config, v.issuer.id)},
                     {"generations", generations}});
  }
  return JsonResponse(200, {{"items", items}});
}

HttpResponse ListAudit(const HttpRequest& req, App& app) {
  auto query = QueryParams(req, {"since", "action", "actor", "limit"});
  if (!query.ok()) return ErrorResponse(query.status());
  auto actor = ApiActorFor(req, app);
  if (!actor.ok()) return ErrorResponse(actor.status());
  ops::OpContext ctx = app.Context(*actor);
  ops::AuditQuery audit_query;
  audit_query.limit = 100;
  if (const auto& since = (*query)["since"]; !since.empty()) {
    auto t = ops::ParseSince(since, ctx.clock.Now());
    if (!t.ok()) return ErrorResponse(t.status());
    audit_query.since = *t;
  }
  audit_query.action = (*query)["action"];
  audit_query.actor = (*query)["actor"];
  if (const auto& limit = (*query)["limit"]; !limit.empty()) {
    auto n = ParseBoundedInt(limit, "limit", 1, 1000);
    if (!n.ok()) return ErrorResponse(n.status());
    audit_query.limit = *n;
  }
  ops::OpReport report;
  auto list = ops::ListAuditEvents(ctx, audit_query, report);
  if (!list.ok()) return ErrorResponse(list.status());
  json items = json::array();
  for (const auto& e : list->events) items.push_back(ops::ToJson(e));
  return JsonResponse(200, {{"items", items}});
}

}  // namespace certctl::daemon::handlers
