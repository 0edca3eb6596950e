// Fuzz target: the router's path matching and path parameters. The input is
// a request line "METHOD TARGET" (the text before the first space is the
// method); the router names the endpoint (EndpointName), matches the route
// and canonicalises its parameters as the handler receives them
// (MatchRoute), and the handlers parse the query string (ParseQuery).
// Checked:
//  - HEAD routes as GET; PKI endpoints are only ever matched under
//    /.well-known/pki/, API endpoints only under /api/v1/;
//  - MatchRoute agrees with EndpointName;
//  - every parameter a handler receives is canonical: an issuer id is
//    exactly the percent-decoded path segment (never cut at a NUL or
//    changed) and matches the schema's pattern, a serial and a generation
//    parse back to themselves, all other text is clean UTF-8.
#include <optional>
#include <string>

#include "certctl/pki/serial.h"
#include "certctl/util/encoding.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/status.h"
#include "daemon/http_message.h"
#include "daemon/router.h"
#include "fuzz/fuzz_support.h"

namespace {

using namespace certctl;
using fuzz::Expect;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The segment after "/.well-known/pki/crl/" or ".../ocsp/", percent-decoded
// here independently of the router; nullopt when the path has neither.
std::optional<std::string> IssuerSegment(std::string_view path) {
  std::string_view rest = path.substr(std::string_view(daemon::kPkiPrefix).size());
  for (std::string_view kind : {"crl/", "ocsp/"}) {
    if (!StartsWith(rest, kind)) continue;
    rest.remove_prefix(kind.size());
    auto decoded = PercentDecode(rest.substr(0, rest.find('/')));
    Expect(decoded.ok(), "a matched segment decodes");
    return std::move(decoded).value();
  }
  return std::nullopt;
}

void CheckParams(std::string_view path, const daemon::RouteMatch& match) {
  for (const auto& [name, value] : match.params) {
    if (name == "request") continue;  // raw; DecodeOcspGetRequest (ocsp_get_fuzz)
    Expect(IsCleanText(value), "a path parameter is clean text");
    if (name == "issuer") {
      Expect(IsIssuerId(value), "an issuer parameter is an issuer id");
      Expect(IssuerSegment(path) == value,
             "an issuer parameter is exactly the decoded path segment");
    } else if (name == "serial") {
      auto again = Serial::Parse(value);
      Expect(again.ok() && again->hex() == value, "a serial parameter is canonical");
    } else if (name == "generation") {
      auto again = ParseGeneration(value);
      Expect(again.ok() && std::to_string(*again) == value,
             "a generation parameter is canonical");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = fuzz::Input(data, size);
  size_t space = input.find(' ');
  if (space == std::string_view::npos) return 0;
  daemon::HttpRequest req;
  req.method = std::string(input.substr(0, space));
  req.target = std::string(input.substr(space + 1));
  std::string_view path = req.Path();
  std::string name = daemon::EndpointName(req.method, path);
  Expect(!name.empty() &&
             name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos,
         "an endpoint name is a metrics label");
  if (req.method == "GET") {
    Expect(daemon::EndpointName("HEAD", path) == name, "HEAD is routed as GET");
  }
  if (StartsWith(name, "crl") || StartsWith(name, "ocsp")) {
    Expect(StartsWith(path, daemon::kPkiPrefix),
           "PKI endpoints live under /.well-known/pki/");
  }
  if (StartsWith(name, "api_")) {
    Expect(StartsWith(path, "/api/v1/"), "API endpoints live under /api/v1/");
  }
  auto match = daemon::MatchRoute(req.method, path);
  if (name == "not_found") {
    Expect(match.status().code() == StatusCode::kNotFound,
           "MatchRoute finds no route where EndpointName finds none");
  } else if (match.ok()) {
    Expect(match->endpoint == name, "MatchRoute and EndpointName agree");
    CheckParams(path, *match);
  } else {
    Expect(match.status().code() == StatusCode::kInvalidArgument,
           "a matched route with a bad parameter is InvalidArgument");
  }
  (void)daemon::ParseQuery(req.Query());
  fuzz::ExpectNoOpenSslErrorLeft();
  return 0;
}
