#include "certctl/net/http_client.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <optional>

#include "certctl/pki/ossl.h"

namespace certctl::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string HostHeader(const Url& url) {
  std::string host =
      url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  bool default_port = (url.scheme == "http" && url.port == 80) ||
                      (url.scheme == "https" && url.port == 443);
  return default_port ? host : host + ":" + std::to_string(url.port);
}

// Runs the asynchronous operations started on `ioc` to completion. Beast's
// stream timeouts (tcp_stream::expires_at) only apply to asynchronous
// operations, so the client is synchronous outside and asynchronous inside;
// the stream's timer ends a step that would pass the deadline.
void RunAll(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

Status NetworkError(const Url& url, std::string_view what, const beast::error_code& ec) {
  if (ec == beast::error::timeout) {
    return Status::DeadlineExceeded(std::string(what) + " " + url.ToString() +
                                    ": timed out");
  }
  return Status::Unavailable(std::string(what) + " " + url.ToString() + ": " +
                             ec.message());
}

// Describes a failed TLS handshake with the certificate verification result
// when that was the cause, so the operator sees "unable to get local issuer
// certificate" rather than a bare "handshake failed".
Status HandshakeError(const Url& url, SSL* ssl, const beast::error_code& ec) {
  long verify = SSL_get_verify_result(ssl);
  ERR_clear_error();
  if (ec == beast::error::timeout) return NetworkError(url, "TLS handshake with", ec);
  std::string m = "TLS handshake with " + url.ToString() + " failed: " + ec.message();
  if (verify != X509_V_OK) {
    m += " (certificate verification: " +
         std::string(X509_verify_cert_error_string(verify)) +
         "; is the server's CA in the system store or given with --ca-file?)";
  }
  return Status::Unavailable(m);
}

http::request<http::string_body> BuildRequest(const HttpRequest& in, const Url& url,
                                              const HttpClientOptions& options) {
  http::request<http::string_body> req;
  req.method_string(in.method);
  req.target(url.target);
  req.version(11);
  req.set(http::field::host, HostHeader(url));
  req.set(http::field::user_agent, options.user_agent);
  req.set(http::field::connection, "close");
  if (!in.content_type.empty()) req.set(http::field::content_type, in.content_type);
  for (const auto& [name, value] : in.headers) req.insert(name, value);
  if (!in.body.empty() || in.method == "POST") {
    req.body() = in.body;
    req.prepare_payload();
  }
  return req;
}

HttpResponse ToResponse(http::response<http::string_body>&& res) {
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.reason = std::string(res.reason());
  for (const auto& field : res) {
    out.headers.emplace_back(std::string(field.name_string()),
                             std::string(field.value()));
  }
  out.body = std::move(res.body());
  return out;
}

// Resolves with the deadline applied (the resolver has no timeout of its own).
Result<tcp::resolver::results_type> Resolve(asio::io_context& ioc, const Url& url,
                                            Clock::time_point deadline) {
  tcp::resolver resolver(ioc);
  beast::error_code result;
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(url.host, std::to_string(url.port),
                         [&](beast::error_code ec, tcp::resolver::results_type r) {
                           result = ec;
                           endpoints = std::move(r);
                         });
  ioc.restart();
  ioc.run_until(deadline);
  if (!ioc.stopped()) {  // still resolving at the deadline
    resolver.cancel();
    RunAll(ioc);
    return NetworkError(url, "resolve", beast::error::timeout);
  }
  if (result) return NetworkError(url, "resolve", result);
  return endpoints;
}

// One exchange over an established stream (tcp_stream or ssl_stream).
template <typename Stream>
Result<HttpResponse> Exchange(asio::io_context& ioc, Stream& stream, const Url& url,
                              http::request<http::string_body>& req, uint64_t max_body) {
  beast::error_code result;
  http::async_write(stream, req, [&](beast::error_code ec, size_t) { result = ec; });
  RunAll(ioc);
  if (result) return NetworkError(url, "send request to", result);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body);
  // The header on its own first: Beast 1.74's eager full read drops the
  // body_limit error of a too-large Content-Length when body bytes arrive
  // in the same segment as the header, and reads the whole body anyway.
  http::async_read_header(stream, buffer, parser,
                          [&](beast::error_code ec, size_t) { result = ec; });
  RunAll(ioc);
  if (!result && !parser.is_done()) {
    http::async_read(stream, buffer, parser,
                     [&](beast::error_code ec, size_t) { result = ec; });
    RunAll(ioc);
  }
  // A server that closes a TLS connection without close_notify after a
  // complete message has still answered.
  if (result == asio::ssl::error::stream_truncated && parser.is_done()) result = {};
  if (result == http::error::body_limit) {
    return Status::Unavailable("response from " + url.ToString() +
                               " is larger than the " + std::to_string(max_body) +
                               "-byte limit");
  }
  if (result) return NetworkError(url, "read response from", result);
  return ToResponse(parser.release());
}

Result<asio::ssl::context> MakeTlsContext(const HttpClientOptions& options) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  // The system store (OpenSSL's default paths) is always trusted, plus ca_file.
  if (SSL_CTX_set_default_verify_paths(native) != 1) {
    return OpenSslError(StatusCode::kConfiguration, "load the system trust store");
  }
  if (!options.ca_file.empty() &&
      SSL_CTX_load_verify_locations(native, options.ca_file.c_str(), nullptr) != 1) {
    return OpenSslError(StatusCode::kConfiguration, "load CA file " + options.ca_file);
  }
  return ctx;
}

// Names the peer we expect: SNI for host names, and the name or address the
// certificate must carry (checked by OpenSSL during the handshake).
Status ExpectPeer(SSL* ssl, const Url& url) {
  if (IsIpLiteral(url.host)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str()) != 1) {
      return OpenSslError(StatusCode::kInvalidArgument, "expect IP address " + url.host);
    }
    return Status::Ok();
  }
  if (SSL_set_tlsext_host_name(ssl, url.host.c_str()) != 1 ||
      SSL_set1_host(ssl, url.host.c_str()) != 1) {
    return OpenSslError(StatusCode::kInvalidArgument, "expect host name " + url.host);
  }
  return Status::Ok();
}

}  // namespace

std::string Url::ToString() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port) + target;
}

// Hand-written: Boost.URL only arrived in Boost 1.81 and Debian 12 has 1.74;
// we need only absolute http(s) URLs.
Result<Url> ParseUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("invalid URL \"" + std::string(text) +
                                   "\": " + std::string(why));
  };
  Url url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return bad("expected http://HOST[:PORT]/PATH");
  url.scheme = std::string(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https")
    return bad("only http and https are supported");
  std::string_view rest = text.substr(sep + 3);
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (url.target.find('#') != std::string::npos) return bad("fragments are not allowed");
  if (url.target.front() == '?') url.target.insert(url.target.begin(), '/');
  if (authority.find('@') != std::string_view::npos) {
    return bad("user info is not allowed (the API key comes from the configuration)");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed [ in the host");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return bad("unexpected text after ]");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return bad("no host");
  url.port = url.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [p, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return bad("invalid port");
    }
    url.port = static_cast<uint16_t>(port);
  }
  return url;
}

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (beast::iequals(n, beast::string_view(name.data(), name.size()))) return v;
  }
  return "";
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) const {
  ASSIGN_OR_RETURN(Url url, ParseUrl(request.url));
  auto deadline = Clock::now() + options_.timeout;
  asio::io_context ioc;
  ASSIGN_OR_RETURN(auto endpoints, Resolve(ioc, url, deadline));
  auto req = BuildRequest(request, url, options_);
  beast::error_code result;

  if (url.scheme == "http") {
    beast::tcp_stream stream(ioc);
    stream.expires_at(deadline);
    stream.async_connect(
        endpoints, [&](beast::error_code ec, const tcp::endpoint&) { result = ec; });
    RunAll(ioc);
    if (result) return NetworkError(url, "connect to", result);
    return Exchange(ioc, stream, url, req, options_.max_body_bytes);
  }

  ASSIGN_OR_RETURN(auto tls, MakeTlsContext(options_));
  beast::ssl_stream<beast::tcp_stream> stream(ioc, tls);
  RETURN_IF_ERROR(ExpectPeer(stream.native_handle(), url));
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_at(deadline);
  tcp_layer.async_connect(
      endpoints, [&](beast::error_code ec, const tcp::endpoint&) { result = ec; });
  RunAll(ioc);
  if (result) return NetworkError(url, "connect to", result);
  stream.async_handshake(asio::ssl::stream_base::client,
                         [&](beast::error_code ec) { result = ec; });
  RunAll(ioc);
  if (result) return HandshakeError(url, stream.native_handle(), result);
  return Exchange(ioc, stream, url, req, options_.max_body_bytes);
}

Result<HttpResponse> HttpClient::Get(
    const std::string& url,
    std::vector<std::pair<std::string, std::string>> headers) const {
  HttpRequest r;
  r.url = url;
  r.headers = std::move(headers);
  return Send(r);
}

Result<HttpResponse> HttpClient::Post(
    const std::string& url, const std::string& content_type, std::string body,
    std::vector<std::pair<std::string, std::string>> headers) const {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.content_type = content_type;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return Send(r);
}

}  // namespace certctl::net
