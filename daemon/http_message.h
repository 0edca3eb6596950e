// HTTP requests and responses as plain values, so that handlers, the router
// and their tests never see a Boost.Beast type (Beast stays in the listener
// and session translation units, which keeps compile times down).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl::daemon {

// Limits shared by the sessions and the tests.
inline constexpr size_t kHeaderLimit = 16 * 1024;     // request line + headers
inline constexpr size_t kApiBodyLimit = 1024 * 1024;  // API bodies: 1 MiB
inline constexpr size_t kOcspBodyLimit = 64 * 1024;   // OCSP requests: 64 KiB
inline constexpr char kPkiPrefix[] = "/.well-known/pki/";

// The listener a request arrived on: the HTTPS API listener serves
// everything, the plain-HTTP PKI listener only /.well-known/pki/*.
enum class ListenerKind { kApi, kPki };

// The caller, once the router has checked the Bearer key.
struct ApiPrincipal {
  std::string key_name;
  ApiRole role = ApiRole::kReader;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // the raw request target, "/api/v1/certificates?limit=5"
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercase
  std::string body;
  ListenerKind listener = ListenerKind::kApi;
  std::string remote;  // peer address, for logs

  // Filled by the router.
  std::map<std::string, std::string> params;  // path parameters ("serial", "issuer", ...)
  std::optional<ApiPrincipal> principal;      // set on authenticated API routes

  // The path (target before '?', still percent-encoded) and the query string.
  std::string_view Path() const;
  std::string_view Query() const;
  // The first value of a header (case-insensitive name), or "" when absent.
  std::string Header(std::string_view name) const;
  std::string Param(const std::string& name) const;
  // Whether the Content-Type header names `media_type` (compared without
  // case, parameters such as "; charset=utf-8" ignored) or is absent: some
  // clients send none, and the body is then read as the route's type.
  bool ContentTypeIs(std::string_view media_type) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // in order
  std::string body;
  // A body shared with other responses, sent instead of `body` when set:
  // immutable bytes every concurrent response sends (a CRL) without a copy
  // each. The session holds it until the response is written.
  std::shared_ptr<const std::string> shared_body;
  // Never sent: the full Status of a server error, for the router's log line
  // (ErrorResponse keeps it out of the body).
  std::string log_detail;

  // The bytes to send: *shared_body when set, else body.
  std::string_view Body() const { return shared_body ? *shared_body : body; }

  // Replaces a header (case-insensitive name) or adds it.
  void Set(std::string_view name, std::string value);
  std::string Header(std::string_view name) const;
};

// {"error": {"code": code, "message": message}} with `status`.
HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message);
// The JSON error for a non-OK Status: the HTTP status from HttpStatusFor and
// the code from ErrorCodeName. A client error (4xx) carries the Status's
// message; a server error (5xx) only a generic one ("internal error"), since
// its text can hold a database error, a path or a host name; the Status in
// full goes to log_detail.
HttpResponse ErrorResponse(const Status& status);
HttpResponse JsonResponse(int status, const nlohmann::json& body);

// InvalidArgument 400, Unauthenticated 401, PermissionDenied 403, NotFound
// 404, AlreadyExists 409, FailedPrecondition 409, Busy 409, Unavailable 503,
// DeadlineExceeded 504, everything else 500.
int HttpStatusFor(StatusCode code);
// "invalid_argument", "not_found", ...: StatusCodeName in snake case.
std::string ErrorCodeName(StatusCode code);

// Query parameters, percent-decoded ("+" stays "+": timestamps use it). A
// repeated name or a malformed escape is InvalidArgument.
Result<std::map<std::string, std::string>> ParseQuery(std::string_view query);

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), for Expires and
// Last-Modified.
std::string HttpDate(TimePoint t);

}  // namespace certctl::daemon
