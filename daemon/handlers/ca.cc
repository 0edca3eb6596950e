// GET /.well-known/pki/ca/{issuer}[/{generation}]: the CA certificate that
// issued certificates name in their caIssuers pointer.
#include "certctl/ops/issuer_ops.h"
#include "certctl/util/identifiers.h"
#include "daemon/handlers/common.h"
#include "daemon/handlers/handlers.h"

namespace certctl::daemon::handlers {
namespace {

// A generation's certificate never changes; the active one can, when the CA
// is rotated, so clients come back for it sooner.
constexpr int64_t kGenerationMaxAge = 7 * 24 * 3600;
constexpr int64_t kActiveMaxAge = 3600;

}  // namespace

HttpResponse GetCaCertificate(const HttpRequest& req, App& app) {
  // The router has canonicalised both; checked again before the query, as
  // GetCrl's service does, so that this handler is safe on its own.
  auto issuer = ParseIssuerId(req.Param("issuer"));
  if (!issuer.ok()) return ErrorResponse(issuer.status());
  std::optional<int> generation;
  if (std::string g = req.Param("generation"); !g.empty()) {
    auto n = ParseGeneration(g);
    if (!n.ok()) return ErrorResponse(n.status());
    generation = *n;
  }
  auto ca = ops::FindCaCertificate(app.db(), *issuer, generation);
  if (!ca.ok()) {
    HttpResponse r = ErrorResponse(ca.status());
    if (ca.status().code() == StatusCode::kUnavailable) r.Set("Retry-After", "5");
    return r;
  }
  HttpResponse r;
  r.Set("Content-Type", "application/pkix-cert");  // RFC 2585 §4.1
  r.Set("Cache-Control",
        "public, max-age=" +
            std::to_string(generation ? kGenerationMaxAge : kActiveMaxAge));
  r.Set("ETag", "\"" + ca->sha256.substr(0, 32) + "\"");
  r.body = std::move(ca->der);
  return r;
}

}  // namespace certctl::daemon::handlers
