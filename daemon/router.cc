#include "daemon/router.h"

#include <chrono>
#include <map>
#include <vector>

#include "certctl/util/encoding.h"
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
    return ErrorResponse(404, "not_found", "no such endpoint: " + std::string(path));
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
  }
  return route.handler(req, app);
}

}  // namespace

HttpResponse Route(HttpRequest req, App& app) {
  auto started = std::chrono::steady_clock::now();
  std::string endpoint = "internal";
  HttpResponse response;
  try {
    response = Dispatch(req, app, endpoint);
  } catch (const std::exception& e) {
    app.logger()->error("{} {}: unexpected exception: {}", req.method,
                        std::string(req.Path()), e.what());
    response = ErrorResponse(500, "internal", "internal error");
  }
  auto took = std::chrono::steady_clock::now() - started;
  app.metrics().CountRequest(endpoint, response.status, took);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  // Outages (503) are logged once per change of state by the services and
  // the database monitor, not here per request.
  if (response.status >= 500 && response.status != 503) {
    app.logger()->error("{} {} from {} -> {}: {}", req.method, std::string(req.Path()),
                        req.remote, response.status, response.body);
  } else {
    app.logger()->debug("{} {} from {} -> {} ({} ms)", req.method,
                        std::string(req.Path()), req.remote, response.status, ms);
  }
  return response;
}

std::string EndpointName(const std::string& method, std::string_view path) {
  std::map<std::string, std::string> params;
  Lookup found = Find(method, path, params);
  return found.route ? found.route->endpoint : "not_found";
}

}  // namespace certctl::daemon
