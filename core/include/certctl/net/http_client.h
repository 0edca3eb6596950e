// A small synchronous HTTP/1.1 client (Boost.Beast) for certctl-admin's
// checks against a running certctld: fetching a CRL, posting an OCSP request,
// calling the admin API.
//
// One request per connection (no keep-alive, no redirects, no proxies): the
// callers make a handful of requests per run and must see exactly what the
// named server answered. https:// URLs are verified against the system trust
// store plus an optional CA file, with the host name or IP address checked
// against the certificate (RFC 6125). Every request has one deadline covering
// resolve, connect, handshake, write and read; a response body above the
// limit is refused rather than buffered.
//
// Thread safety: an HttpClient holds only its options; Send() may be called
// from several threads at once (each call has its own I/O context).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "certctl/util/status.h"

namespace certctl::net {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6 literals
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path and query, at least "/"

  // "https://[::1]:8443/path" form, for messages.
  std::string ToString() const;
};

// Parses an absolute http:// or https:// URL. User info and fragments are
// refused (InvalidArgument naming the URL and what is wrong).
Result<Url> ParseUrl(std::string_view text);

struct HttpClientOptions {
  // Deadline for the whole exchange. Default 10 seconds.
  std::chrono::milliseconds timeout{10000};
  // PEM file of extra CAs trusted for https:// (e.g. the certctl local CA
  // that signed certctld's dev certificate). Empty: none.
  std::string ca_file;
  // Largest response body accepted. Default 16 MiB (a CRL of ~500k entries).
  uint64_t max_body_bytes = 16u << 20;
  std::string user_agent = "certctl";
};

struct HttpRequest {
  std::string method = "GET";  // GET or POST (anything Beast knows is sent as is)
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // added verbatim
  std::string body;          // sent with Content-Length when non-empty or POST
  std::string content_type;  // Content-Type when non-empty
};

struct HttpResponse {
  int status = 0;      // e.g. 200
  std::string reason;  // e.g. "OK"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header with this name (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});

  // Performs one exchange. Errors:
  //  InvalidArgument  malformed URL;
  //  Configuration    the CA file cannot be loaded;
  //  Unavailable      name resolution, connection, TLS handshake or
  //                   certificate verification failed, the connection broke,
  //                   or the response was malformed or over the body limit;
  //  DeadlineExceeded the deadline passed.
  // Any HTTP status (404, 500...) is a successful exchange: the caller
  // decides what it means.
  Result<HttpResponse> Send(const HttpRequest& request) const;

  Result<HttpResponse> Get(
      const std::string& url,
      std::vector<std::pair<std::string, std::string>> headers = {}) const;
  Result<HttpResponse> Post(
      const std::string& url, const std::string& content_type, std::string body,
      std::vector<std::pair<std::string, std::string>> headers = {}) const;

 private:
  HttpClientOptions options_;
};

}  // namespace certctl::net
