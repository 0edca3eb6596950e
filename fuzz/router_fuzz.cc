// Fuzz target: the router's path matching. The input is a request line
// "METHOD TARGET" (the text before the first space is the method); the
// router names the endpoint (EndpointName) and the handlers parse the query
// string (ParseQuery). Checked: HEAD routes as GET, PKI endpoints are only
// ever matched under /.well-known/pki/, API endpoints only under /api/v1/.
#include "certctl/util/status.h"
#include "daemon/http_message.h"
#include "daemon/router.h"
#include "fuzz/fuzz_support.h"

namespace {

using certctl::fuzz::Expect;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certctl::daemon;
  std::string_view input = certctl::fuzz::Input(data, size);
  size_t space = input.find(' ');
  if (space == std::string_view::npos) return 0;
  HttpRequest req;
  req.method = std::string(input.substr(0, space));
  req.target = std::string(input.substr(space + 1));
  std::string_view path = req.Path();
  std::string name = EndpointName(req.method, path);
  Expect(!name.empty() &&
             name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos,
         "an endpoint name is a metrics label");
  if (req.method == "GET") {
    Expect(EndpointName("HEAD", path) == name, "HEAD is routed as GET");
  }
  if (StartsWith(name, "crl") || StartsWith(name, "ocsp")) {
    Expect(StartsWith(path, kPkiPrefix), "PKI endpoints live under /.well-known/pki/");
  }
  if (StartsWith(name, "api_")) {
    Expect(StartsWith(path, "/api/v1/"), "API endpoints live under /api/v1/");
  }
  (void)ParseQuery(req.Query());
  return 0;
}
