// OCSP over POST, RFC 6960 A.1 GET, and GET by serial.
#include "certctl/pki/ocsp.h"

#include "certctl/ops/ocsp_ops.h"
#include "certctl/util/encoding.h"
#include "daemon/handlers/common.h"
#include "daemon/handlers/handlers.h"

namespace certctl::daemon::handlers {
namespace {

std::string_view ResponseStatusName(int status) {
  switch (status) {
    case 0:
      return "successful";
    case 1:
      return "malformedRequest";
    case 2:
      return "internalError";
    case 3:
      return "tryLater";
    case 5:
      return "sigRequired";
    case 6:
      return "unauthorized";
  }
  return "other";
}

HttpResponse OcspHttpResponse(App& app, const ops::OcspService::ServedResponse& a,
                              bool cacheable_get) {
  app.metrics().CountOcspResponse(a.response_status == 0 && !a.cert_status.empty()
                                      ? std::string_view(a.cert_status)
                                      : ResponseStatusName(a.response_status),
                                  a.cache_hit);
  HttpResponse r;
  r.Set("Content-Type", "application/ocsp-response");
  r.body = a.der;
  if (!cacheable_get) return r;
  // RFC 5019 §6: GET answers are cacheable until nextUpdate; answers to a
  // nonce or errors are not.
  if (a.response_status != 0 || a.nonce || !a.next_update) {
    r.Set("Cache-Control", "no-store");
    return r;
  }
  int64_t left = SecondsUntil(*a.next_update, app.clock().Now());
  r.Set("Cache-Control",
        "max-age=" + std::to_string(left) + ", public, no-transform, must-revalidate");
  r.Set("Expires", HttpDate(*a.next_update));
  if (a.this_update) r.Set("Last-Modified", HttpDate(*a.this_update));
  r.Set("ETag", "\"" + Sha256Hex(a.der).substr(0, 32) + "\"");
  return r;
}

}  // namespace

HttpResponse OcspPost(const HttpRequest& req, App& app) {
  // RFC 6960 A.1.1 names the type; some clients send none.
  if (!req.ContentTypeIs("application/ocsp-request")) {
    return ErrorResponse(415, "unsupported_media_type",
                         "OCSP requests are sent as application/ocsp-request");
  }
  return OcspHttpResponse(app, app.ocsp().Respond(req.Param("issuer"), req.body), false);
}

HttpResponse OcspGet(const HttpRequest& req, App& app) {
  // Anything that does not decode is answered as the malformed request it is.
  auto der = DecodeOcspGetRequest(req.Param("request"));
  return OcspHttpResponse(
      app, app.ocsp().Respond(req.Param("issuer"), der.ok() ? *der : ""), true);
}

HttpResponse OcspGetBySerial(const HttpRequest& req, App& app) {
  auto answer = app.ocsp().RespondForSerial(req.Param("issuer"), req.Param("serial"));
  if (!answer.ok()) return ErrorResponse(answer.status());
  return OcspHttpResponse(app, *answer, true);
}

}  // namespace certctl::daemon::handlers
