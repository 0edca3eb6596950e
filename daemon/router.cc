#include "daemon/router.h"

#include <chrono>
#include <map>
#include <vector>

#include "certctl/log/logging.h"
#include "certctl/pki/serial.h"
#include "certctl/util/encoding.h"
#include "certctl/util/identifiers.h"
#include "daemon/auth.h"
#include "daemon/handlers/handlers.h"

namespace certctl::daemon {
namespace {

using Handler = HttpResponse (*)(const HttpRequest&, App&);

struct RouteSpec {
  const char* method;    // "GET" (also serves HEAD) or "POST"
  const char* pattern;   // "{name}" captures a segment, "{name*}" the rest of the path
  const char* endpoint;  // the PKI listener serves the routes under kPkiPrefix
  std::optional<ApiRole> role;
  Handler handler;
};

const std::vector<RouteSpec>& Routes() {
  using namespace handlers;
  static const std::vector<RouteSpec> routes = {
      {"GET", "/healthz", "healthz", std::nullopt, Healthz},
      {"GET", "/readyz", "readyz", std::nullopt, Readyz},
      {"GET", "/metrics", "metrics", std::nullopt, MetricsText},
      {"POST", "/api/v1/certificates", "api_issue", ApiRole::kOperator, IssueCertificate},
      {"GET", "/api/v1/certificates", "api_list_certificates", ApiRole::kReader,
       ListCertificates},
      {"GET", "/api/v1/certificates/{serial}", "api_get_certificate", ApiRole::kReader,
       GetCertificate},
      {"POST", "/api/v1/certificates/{serial}/revoke", "api_revoke", ApiRole::kOperator,
       RevokeCertificate},
      {"GET", "/api/v1/issuers", "api_issuers", ApiRole::kReader, ListIssuers},
      {"GET", "/api/v1/audit", "api_audit", ApiRole::kReader, ListAudit},
      {"POST", "/api/v1/admin/trust-anchors/{name}/reload", "api_trust_reload",
       ApiRole::kAdmin, ReloadTrustAnchor},
      {"GET", "/.well-known/pki/crl/{issuer}", "crl", std::nullopt, GetCrl},
      {"GET", "/.well-known/pki/crl/{issuer}/{generation}", "crl", std::nullopt, GetCrl},
      {"GET", "/.well-known/pki/ca/{issuer}", "ca", std::nullopt, GetCaCertificate},
      {"GET", "/.well-known/pki/ca/{issuer}/{generation}", "ca", std::nullopt,
       GetCaCertificate},
      {"POST", "/.well-known/pki/ocsp/{issuer}", "ocsp_post", std::nullopt, OcspPost},
      {"GET", "/.well-known/pki/ocsp/{issuer}/serial/{serial}", "ocsp_serial",
       std::nullopt, OcspGetBySerial},
      {"GET", "/.well-known/pki/ocsp/{issuer}/{request*}", "ocsp_get", std::nullopt,
       OcspGet},
  };
  return routes;
}

// Matches `path` against `pattern`; fills `params` (segments percent-decoded,
// a "{name*}" remainder raw). False when it does not match or a segment does
// not decode.
bool Match(std::string_view pattern, std::string_view path,
           std::map<std::string, std::string>& params) {
  params.clear();
  while (!pattern.empty()) {
    if (path.empty() || path.front() != '/' || pattern.front() != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    std::string_view pseg = pattern.substr(0, pattern.find('/'));
    pattern.remove_prefix(pseg.size());
    if (pseg.size() > 3 && pseg.front() == '{' && pseg.substr(pseg.size() - 2) == "*}") {
      if (path.empty()) return false;
      params[std::string(pseg.substr(1, pseg.size() - 3))] = std::string(path);
      return pattern.empty();
    }
    std::string_view seg = path.substr(0, path.find('/'));
    path.remove_prefix(seg.size());
    if (pseg.size() > 2 && pseg.front() == '{' && pseg.back() == '}') {
      if (seg.empty()) return false;
      auto decoded = PercentDecode(seg);
      if (!decoded.ok()) return false;
      params[std::string(pseg.substr(1, pseg.size() - 2))] = std::move(decoded).value();
    } else if (seg != pseg) {
      return false;
    }
  }
  return path.empty();
}

// Path parameters are canonicalised here, before any handler, cache, log
// line or query sees them: an issuer id must be exactly an issuer id (a NUL
// or any other byte outside [a-z0-9-] is refused, never cut off), a serial
// becomes its one canonical hex form, a generation a plain integer; every
// segment must be clean UTF-8 text without control characters.
Status CanonicalizeParams(std::map<std::string, std::string>& params) {
  for (auto& [name, value] : params) {
    if (name == "request") continue;  // raw OCSP GET payload; the handler decodes it
    if (!IsCleanText(value) || value.size() > 255) {
      return Status::InvalidArgument("malformed " + name + " \"" + Printable(value) +
                                     "\" in the path");
    }
    if (name == "issuer") {
      ASSIGN_OR_RETURN(value, ParseIssuerId(value));
    } else if (name == "generation") {
      ASSIGN_OR_RETURN(int g, ParseGeneration(value));
      value = std::to_string(g);
    } else if (name == "serial") {
      ASSIGN_OR_RETURN(Serial serial, Serial::Parse(value));
      value = serial.hex();
    }
  }
  return Status::Ok();
}

struct Lookup {
  const RouteSpec* route = nullptr;
  std::string allow;  // methods of routes whose path matched, for 405
};

Lookup Find(const std::string& method, std::string_view path,
            std::map<std::string, std::string>& params) {
  Lookup out;
  std::string m = method == "HEAD" ? "GET" : method;
  std::map<std::string, std::string> scratch;
  for (const auto& r : Routes()) {
    if (!Match(r.pattern, path, scratch)) continue;
    if (m == r.method) {
      out.route = &r;
      params = std::move(scratch);
      return out;
    }
    std::string allowed = std::string(r.method) == "GET" ? "GET, HEAD" : r.method;
    if (out.allow.find(allowed) == std::string::npos) {
      out.allow += (out.allow.empty() ? "" : ", ") + allowed;
    }
  }
  return out;
}

HttpResponse Dispatch(HttpRequest& req, App& app, std::string& endpoint) {
  std::string_view path = req.Path();
  if (req.listener == ListenerKind::kPki && path.rfind(kPkiPrefix, 0) != 0) {
    endpoint = "not_found";
    return ErrorResponse(404, "not_found",
                         "this listener serves only /.well-known/pki/*");
  }
  Lookup found = Find(req.method, path, req.params);
  if (!found.route) {
    if (!found.allow.empty()) {
      endpoint = "method_not_allowed";
      HttpResponse r =
          ErrorResponse(405, "method_not_allowed",
                        req.method + " is not allowed here; use " + found.allow);
      r.Set("Allow", found.allow);
      return r;
    }
    endpoint = "not_found";
    return ErrorResponse(404, "not_found", "no such endpoint: " + Printable(path, 200));
  }
  const RouteSpec& route = *found.route;
  endpoint = route.endpoint;
  if (route.role) {
    auto principal = Authenticate(req.Header("authorization"), app.config().api_keys);
    if (!principal.ok()) {
      HttpResponse r = ErrorResponse(principal.status());
      r.Set("WWW-Authenticate", "Bearer realm=\"certctl\"");
      return r;
    }
    if (Status s = Authorize(*principal, *route.role); !s.ok()) return ErrorResponse(s);
    req.principal = std::move(principal).value();
    // Every API POST takes a JSON object. A body declared as something else
    // (a form, text/plain) was not meant for this API: refused before the
    // handler reads it. An empty body has no type to check.
    if (req.method == "POST" && !req.body.empty() &&
        !req.ContentTypeIs("application/json")) {
      return ErrorResponse(415, "unsupported_media_type",
                           "API requests are sent as application/json");
    }
  }
  if (Status s = CanonicalizeParams(req.params); !s.ok()) return ErrorResponse(s);
  return route.handler(req, app);
}

}  // namespace

HttpResponse Route(HttpRequest req, App& app) {
  // Errors caused by requests are logged at most this often, so that a
  // client cannot fill the log; request-derived text is always escaped.
  static LogRateLimiter error_lines(20, std::chrono::seconds(1));
  auto started = std::chrono::steady_clock::now();
  std::string endpoint = "internal";
  HttpResponse response;
  std::string unexpected;
  try {
    response = Dispatch(req, app, endpoint);
  } catch (const std::exception& e) {
    unexpected = e.what();
    response = ErrorResponse(500, "internal", "internal error");
  }
  auto took = std::chrono::steady_clock::now() - started;
  app.metrics().CountRequest(endpoint, response.status, took);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  std::string path = Printable(req.Path(), 200);
  // Outages (503) are logged once per change of state by the services and
  // the database monitor, not here per request.
  uint64_t suppressed = 0;
  if (response.status >= 500 && response.status != 503 && error_lines.Allow(suppressed)) {
    // A 5xx body is generic (ErrorResponse); its detail is logged here.
    std::string why = !unexpected.empty() ? "unexpected exception: " + unexpected
                      : !response.log_detail.empty() ? response.log_detail
                                                     : response.body;
    app.logger()->error("{} {} from {} -> {}: {}{}", Printable(req.method, 16), path,
                        req.remote, response.status, Printable(why, 400),
                        suppressed
                            ? fmt::format(" ({} similar lines suppressed)", suppressed)
                            : std::string());
  } else {
    app.logger()->debug("{} {} from {} -> {} ({} ms)", Printable(req.method, 16), path,
                        req.remote, response.status, ms);
  }
  return response;
}

std::string EndpointName(const std::string& method, std::string_view path) {
  std::map<std::string, std::string> params;
  Lookup found = Find(method, path, params);
  return found.route ? found.route->endpoint : "not_found";
}

Result<RouteMatch> MatchRoute(const std::string& method, std::string_view path) {
  RouteMatch match;
  Lookup found = Find(method, path, match.params);
  if (!found.route) return Status::NotFound("no route for " + Printable(method, 16));
  RETURN_IF_ERROR(CanonicalizeParams(match.params));
  match.endpoint = found.route->endpoint;
  return match;
}

}  // namespace certctl::daemon
