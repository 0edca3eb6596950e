// GET /.well-known/pki/crl/{issuer}[/{generation}].
#include <algorithm>

#include "certctl/ops/crl_ops.h"
#include "certctl/util/identifiers.h"
#include "daemon/handlers/common.h"
#include "daemon/handlers/handlers.h"

namespace certctl::daemon::handlers {
namespace {

// RFC 9110 §13.1.2: a list of entity tags or "*"; weak tags compare weakly.
bool IfNoneMatchHits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header =
        comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t'))
      tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t'))
      tag.remove_suffix(1);
    if (tag.rfind("W/", 0) == 0) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

}  // namespace

HttpResponse GetCrl(const HttpRequest& req, App& app) {
  // The router has canonicalised both: a valid issuer id, a plain integer.
  std::string issuer = req.Param("issuer");
  std::optional<int> generation;
  if (std::string g = req.Param("generation"); !g.empty()) {
    auto n = ParseGeneration(g);
    if (!n.ok()) return ErrorResponse(n.status());
    generation = *n;
  }
  auto served = app.crl().Get(issuer, generation);
  if (!served.ok()) {
    HttpResponse r = ErrorResponse(served.status());
    if (served.status().code() == StatusCode::kUnavailable) r.Set("Retry-After", "5");
    return r;
  }
  const ops::CrlArtifact& crl = *served->crl;
  app.metrics().CountCrlServed(issuer, served->from_memory);
  TimePoint now = app.clock().Now();
  std::string etag = "\"" + crl.issuer + "-g" + std::to_string(crl.generation) + "-n" +
                     std::to_string(crl.crl_number) + "\"";
  HttpResponse r;
  r.Set("ETag", etag);
  r.Set("Cache-Control",
        "public, max-age=" + std::to_string(SecondsUntil(crl.next_update, now)));
  r.Set("Expires", HttpDate(crl.next_update));
  r.Set("Last-Modified", HttpDate(crl.this_update));
  if (IfNoneMatchHits(req.Header("if-none-match"), etag)) {
    r.status = 304;
    return r;
  }
  r.Set("Content-Type", "application/pkix-crl");
  // Every GET of this CRL sends the same bytes: shared, never copied (a 1M-
  // entry CRL is 44 MB), and kept alive by the responses while they are sent.
  r.shared_body = std::shared_ptr<const std::string>(served->crl, &crl.der);
  return r;
}

}  // namespace certctl::daemon::handlers
