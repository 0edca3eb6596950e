// Request routing: one table maps (method, path pattern) to a handler, the
// metrics label of the endpoint, whether the PKI listener may serve it, and
// the API role it needs.
#pragma once

#include <optional>
#include <string>

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

}  // namespace certctl::daemon
