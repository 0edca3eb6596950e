#include "certctl/net/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/util/files.h"
#include "support/pg_harness.h"
#include "support/test_pki.h"

namespace certctl::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using Handler = std::function<http::response<http::string_body>(
    const http::request<http::string_body>&)>;

// A one-thread test server on 127.0.0.1: plain or TLS, answering every
// connection with `handler` (or, with `hang`, never answering).
class TestServer {
 public:
  TestServer(Handler handler, asio::ssl::context* tls = nullptr, bool hang = false)
      : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}),
        handler_(std::move(handler)),
        tls_(tls),
        hang_(hang) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestServer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    stopped_.notify_all();
    boost::system::error_code ec;
    // Wake the blocking accept with a connection of our own.
    tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }

 private:
  template <typename Stream>
  void Answer(Stream& stream) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    if (hang_) {  // until the test ends
      std::unique_lock lock(mu_);
      stopped_.wait(lock, [&] { return stop_.load(); });
      return;
    }
    auto res = handler_(req);
    if (!res.chunked()) res.prepare_payload();
    http::write(stream, res, ec);
  }
  void Serve() {
    while (!stop_) {
      tcp::socket socket(ioc_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) return;
      if (!tls_) {
        Answer(socket);
        continue;
      }
      beast::ssl_stream<tcp::socket&> stream(socket, *tls_);
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (!ec) Answer(stream);
    }
  }
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  Handler handler_;
  asio::ssl::context* tls_;
  bool hang_;
  std::mutex mu_;
  std::condition_variable stopped_;
  std::atomic<bool> stop_{false};  // set under mu_
  std::thread thread_;
};

http::response<http::string_body> Reply(int status, std::string body,
                                        std::string type = "text/plain") {
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, type);
  res.body() = std::move(body);
  return res;
}

std::string Base(const TestServer& s, const std::string& scheme = "http",
                 const std::string& host = "127.0.0.1") {
  return scheme + "://" + host + ":" + std::to_string(s.port());
}

TEST(HttpClientTest, ParsesUrls) {
  auto u = ParseUrl("https://[::1]:8443/api/v1?x=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/api/v1?x=1");
  EXPECT_EQ(ParseUrl("http://pki.example")->port, 80);
  EXPECT_EQ(ParseUrl("http://pki.example")->target, "/");
  EXPECT_EQ(ParseUrl("https://pki.example")->port, 443);
  for (const char* bad :
       {"ftp://x/", "pki.example/crl", "http://", "http://h:0/", "http://h:99999/",
        "https://user:pw@h/", "http://h/#frag", "http://[::1/"}) {
    EXPECT_EQ(ParseUrl(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HttpClientTest, GetAndPost) {
  TestServer server([](const http::request<http::string_body>& req) {
    if (req.method() == http::verb::post) {
      return Reply(200, std::string(req[http::field::content_type]) + ":" + req.body());
    }
    if (req.target() == "/missing") return Reply(404, "no");
    return Reply(200, "hello " + std::string(req[http::field::host]),
                 "application/pkix-crl");
  });
  HttpClient client;
  auto got = client.Get(Base(server) + "/crl");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "hello 127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(got->Header("content-type"), "application/pkix-crl");
  // Binary bodies survive both ways.
  std::string der("\x30\x03\x0a\x01\x00", 5);
  auto posted = client.Post(Base(server) + "/ocsp", "application/ocsp-request", der);
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  EXPECT_EQ(posted->body, "application/ocsp-request:" + der);
  // An HTTP error status is an answer, not a failure.
  auto missing = client.Get(Base(server) + "/missing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST(HttpClientTest, FailuresAreTyped) {
  // Nobody listening.
  int port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  HttpClient client({.timeout = std::chrono::milliseconds(2000)});
  auto refused = client.Get("http://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("connect to"), std::string::npos);

  // A server that never answers: the deadline ends the wait.
  TestServer silent([](const auto&) { return Reply(200, ""); }, nullptr, /*hang=*/true);
  HttpClient quick({.timeout = std::chrono::milliseconds(300)});
  auto hung = quick.Get(Base(silent) + "/");
  EXPECT_EQ(hung.status().code(), StatusCode::kDeadlineExceeded)
      << hung.status().ToString();

  // A body over the limit is refused, not buffered.
  TestServer big([](const auto&) { return Reply(200, std::string(2 << 20, 'x')); });
  HttpClient small({.max_body_bytes = 1 << 20});
  auto too_big = small.Get(Base(big) + "/");
  EXPECT_EQ(too_big.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(too_big.status().message().find("limit"), std::string::npos);
  EXPECT_TRUE(HttpClient().Get(Base(big) + "/").ok());
  // The same without a Content-Length (chunked): refused as well.
  TestServer chunked([](const auto&) {
    auto res = Reply(200, std::string(2 << 20, 'y'));
    res.chunked(true);
    return res;
  });
  auto too_big_chunked = small.Get(Base(chunked) + "/");
  EXPECT_EQ(too_big_chunked.status().code(), StatusCode::kUnavailable)
      << (too_big_chunked.ok() ? std::to_string(too_big_chunked->body.size()) : "");
}

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto now = std::chrono::system_clock::now();
    auto ca = CreateSelfSignedCa({}, now);
    ASSERT_TRUE(ca.ok());
    ca_file_ = tmp_ / "ca.crt";
    ASSERT_TRUE(
        WriteFileAtomic(ca_file_, CertificateToPem(ca->cert.get()), {.mode = 0644}).ok());
    // No IP address: a client asking for 127.0.0.1 must not match it.
    testing::ServerCertificate server = testing::LocalhostServerCertificate(
        ca->cert.get(), ca->key.get(), /*without_ip=*/true);
    auto key_pem = PrivateKeyToPem(server.key.get());
    const std::string& cert_pem = server.cert_pem;
    tls_.use_certificate_chain(asio::buffer(cert_pem.data(), cert_pem.size()));
    tls_.use_private_key(asio::buffer(key_pem->view().data(), key_pem->view().size()),
                         asio::ssl::context::pem);
  }
  testing::TempDir tmp_;
  std::string ca_file_;
  asio::ssl::context tls_{asio::ssl::context::tls_server};
};

TEST_F(HttpsTest, VerifiesTheServerWithTheGivenCa) {
  TestServer server([](const auto&) { return Reply(200, "secure"); }, &tls_);
  HttpClient trusting({.ca_file = ca_file_});
  auto ok = trusting.Get(Base(server, "https", "localhost") + "/");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->body, "secure");

  // Not in the system store and no CA file: refused, saying why.
  auto unknown = HttpClient().Get(Base(server, "https", "localhost") + "/");
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(unknown.status().message().find("certificate verification"),
            std::string::npos)
      << unknown.status().message();
  // The certificate does not name 127.0.0.1.
  auto wrong_name = trusting.Get(Base(server, "https") + "/");
  EXPECT_EQ(wrong_name.status().code(), StatusCode::kUnavailable)
      << wrong_name.status().ToString();
  // A CA file that does not load is a configuration error.
  auto bad_ca =
      HttpClient({.ca_file = tmp_ / "missing.crt"}).Get(Base(server, "https") + "/");
  EXPECT_EQ(bad_ca.status().code(), StatusCode::kConfiguration)
      << bad_ca.status().ToString();
}

}  // namespace
}  // namespace certctl::net
