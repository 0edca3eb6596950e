// Request routing: one table maps (method, path pattern) to a handler, the
// metrics label of the endpoint, whether the PKI listener may serve it, and
// the API role it needs.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "certctl/util/status.h"
#include "daemon/app.h"
#include "daemon/http_message.h"

namespace certctl::daemon {

// Routes `req` and returns the response:
//  - the PKI listener serves only /.well-known/pki/* (404 otherwise);
//  - unknown paths are 404, a known path with another method 405 (Allow);
//  - HEAD is answered as GET (the session sends no body);
//  - API routes authenticate the Bearer key (401 with WWW-Authenticate) and
//    check the role (403): reader for GETs, operator for issuing and
//    revoking, admin for /api/v1/admin/*;
//  - the request is counted in app.metrics() under its endpoint name.
// Handlers never throw; anything that escapes is a 500 and logged.
HttpResponse Route(HttpRequest req, App& app);

// The endpoint name (metrics label) for a method and path, "not_found" when
// nothing matches. For logs and tests.
std::string EndpointName(const std::string& method, std::string_view path);

// The route `method` and `path` reach and its path parameters exactly as the
// handler receives them: percent-decoded and canonical (an issuer id checked,
// never cut at a NUL; a serial in its one hex form; a generation a plain
// integer; every other parameter but an OCSP GET's raw "request" clean
// UTF-8). NotFound when no route matches (wrong method included);
// InvalidArgument, naming the parameter, when one is malformed. Route runs
// this same code before any handler; for tests and the router fuzz target.
struct RouteMatch {
  std::string endpoint;
  std::map<std::string, std::string> params;
};
Result<RouteMatch> MatchRoute(const std::string& method, std::string_view path);

}  // namespace certctl::daemon
