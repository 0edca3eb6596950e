// The real listeners in-process, driven with curl: TLS, the PKI listener's
// scope, size limits, keep-alive, the Date header and the drain. (Connection
// caps and slow clients: connections_test.cc.)
#include "daemon/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>

#include "daemon/server_fixture.h"
#include "store/operation_lock.h"

namespace certctl::testing {
namespace {

TEST_F(ServerTest, HttpsApiAndPlainPkiListener) {
  EXPECT_EQ(HttpCode({api_ + "/healthz"}), "200");
  EXPECT_EQ(HttpCode({"--tlsv1.2", "--tls-max", "1.2", api_ + "/healthz"}), "200");
  EXPECT_EQ(HttpCode({"--tlsv1.3", api_ + "/healthz"}), "200");
  EXPECT_EQ(HttpCode({api_ + "/.well-known/pki/crl/iss-local"}), "200");
  EXPECT_EQ(HttpCode({pki_ + "/.well-known/pki/crl/iss-local"}), "200");
  EXPECT_EQ(HttpCode({"-I", pki_ + "/.well-known/pki/crl/iss-local"}), "200");
  EXPECT_EQ(HttpCode({pki_ + "/healthz"}), "404");
  EXPECT_EQ(HttpCode({"-H", "Authorization: Bearer " + std::string(kReaderKey),
                      api_ + "/api/v1/issuers"}),
            "200");
  // Plain HTTP on the TLS port is not served, and is counted for /metrics.
  EXPECT_EQ(HttpCode({"http://" + server_->api_address() + "/healthz"}), "000");
  EXPECT_GE(app_->metrics().Value("certctl_connection_errors_total",
                                  {{"listener", "api"}, {"stage", "tls_handshake"}}),
            1);
}

// Out of file descriptors, accept() fails; the listener backs off instead of
// spinning, counts the failures, and serves the waiting client once
// descriptors are free again.
TEST_F(ServerTest, AcceptBacksOffWhileOutOfDescriptors) {
  auto port =
      std::stoi(server_->pki_address().substr(server_->pki_address().rfind(':') + 1));
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(client, 0);
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Lower the limit to just above the highest open descriptor and fill every
  // gap below it, so that no new descriptor can be had.
  int highest = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    highest = std::max(highest, std::stoi(e.path().filename().string()));
  }
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(highest) + 1;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fillers;
  for (int fd; (fd = ::dup(0)) >= 0;) fillers.push_back(fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto failures = [&] {
    return app_->metrics().Value("certctl_connection_errors_total",
                                 {{"listener", "pki"}, {"stage", "accept"}});
  };
  auto started = std::chrono::steady_clock::now();
  int connected = ::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  // Retries after 10, 20, 40 and 80 ms: the fifth failure comes 150 ms or
  // more after the first, where a spinning listener would fail thousands of
  // times in that while.
  bool fifth = Eventually([&] { return failures() >= 5; });
  auto took = std::chrono::steady_clock::now() - started;
  double counted = failures();
  for (int fd : fillers) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_EQ(connected, 0) << std::strerror(errno);
  ASSERT_TRUE(fifth);
  EXPECT_GE(took, std::chrono::milliseconds(150));
  EXPECT_LE(counted, 30);

  std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(client, request.data(), request.size(), 0),
            static_cast<ssize_t>(request.size()));
  char buf[64] = {};
  ssize_t n = ::recv(client, buf, sizeof buf - 1, 0);
  ::close(client);
  ASSERT_GT(n, 0) << std::strerror(errno);
  // The PKI listener serves only /.well-known/pki/: 404, but an answer.
  EXPECT_EQ(std::string(buf, 12), "HTTP/1.1 404") << buf;
}

TEST_F(ServerTest, BodyAndHeaderLimits) {
  std::string big_ocsp = WriteFile("big-ocsp", std::string(70 * 1024, 'x'));
  EXPECT_EQ(HttpCode({"-H", "Content-Type: application/ocsp-request", "--data-binary",
                      "@" + big_ocsp, pki_ + "/.well-known/pki/ocsp/iss-local"}),
            "413");
  std::string big_api = WriteFile("big-api", std::string(1024 * 1024 + 10, 'x'));
  EXPECT_EQ(HttpCode({"-H", "Authorization: Bearer " + std::string(kOperatorKey),
                      "--data-binary", "@" + big_api, api_ + "/api/v1/certificates"}),
            "413");
  EXPECT_EQ(Count("certificates"), 0);
  // Within the limit, the same API body is an ordinary JSON error.
  EXPECT_EQ(HttpCode({"-H", "Authorization: Bearer " + std::string(kOperatorKey), "-H",
                      "Content-Type: application/json", "--data-binary", "@" + big_ocsp,
                      api_ + "/api/v1/certificates"}),
            "400");
  EXPECT_EQ(HttpCode({"-H", "X-Big: " + std::string(20 * 1024, 'y'),
                      pki_ + "/.well-known/pki/crl/iss-local"}),
            "431");
  auto metrics = Command({"curl", "-s", "--cacert", ca_cert_path_, api_ + "/metrics"});
  EXPECT_NE(metrics.output.find(
                "certctl_http_requests_total{endpoint=\"rejected\",status=\"413\"} 2"),
            std::string::npos)
      << metrics.output;
}

TEST_F(ServerTest, KeepAliveReusesTheConnection) {
  auto r = Command({"curl", "-sv", "-o", "/dev/null", "-o", "/dev/null", "--cacert",
                    ca_cert_path_, api_ + "/healthz", api_ + "/readyz"});
  EXPECT_NE(r.output.find("Re-using existing connection"), std::string::npos) << r.output;
}

TEST_F(ServerTest, DrainFinishesInFlightRequestsAndRefusesNewOnes) {
  // Make a CRL fetch wait: no cached CRL, and its lock held by "another
  // process", so the live signing waits for it.
  Sql(url_, "DELETE FROM crl_cache");
  auto lock = OperationLock::Acquire(db(), "crl:iss-local", ThisProcess("test"));
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  std::string in_flight;
  std::thread client(
      [&] { in_flight = HttpCode({pki_ + "/.well-known/pki/crl/iss-local"}); });
  // Wait until the request is being answered: its live signing holds a
  // second pooled connection while it waits for the lock.
  EXPECT_TRUE(Eventually([&] { return db().Stats().in_use >= 2; }));
  // The lock goes once the drain has begun, with the request still in flight.
  std::thread release([&] {
    EXPECT_TRUE(Eventually([&] { return app_->readiness().draining(); }));
    lock->reset();
  });
  size_t cut = server_->Drain();
  client.join();
  release.join();
  EXPECT_EQ(cut, 0u);
  EXPECT_EQ(in_flight, "200");
  EXPECT_TRUE(app_->readiness().draining());
  // The listeners are closed now.
  EXPECT_EQ(HttpCode({pki_ + "/.well-known/pki/crl/iss-local"}), "000");
}

TEST_F(ServerTest, TlsReloadKeepsTheOldCertificateOnABadFile) {
  WriteFile("server.crt", "not a certificate");
  Status s = tls_->Reload();
  EXPECT_EQ(s.code(), StatusCode::kConfiguration);
  EXPECT_NE(s.message().find("server.crt"), std::string::npos) << s.message();
  EXPECT_EQ(HttpCode({api_ + "/healthz"}), "200");
}

// The value of a header in a raw response ("" when absent).
std::string HeaderIn(const std::string& response, std::string name) {
  std::string lower = response.substr(0, response.find("\r\n\r\n"));
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t begin = response.find_first_not_of(' ', at + name.size() + 3);
  return response.substr(begin, response.find("\r\n", begin) - begin);
}

// Seconds between an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") and now;
// -1 when it does not parse.
long SecondsFromNow(const std::string& date) {
  std::tm tm{};
  const char* end = ::strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return -1;
  return std::labs(static_cast<long>(::timegm(&tm) - std::time(nullptr)));
}

// RFC 9110 6.6.1: an origin server with a clock sends Date in every
// response, errors and 304s included; certctld does on both listeners,
// whether the router or the session itself answered.
TEST_F(ServerTest, EveryResponseCarriesADateHeader) {
  const std::string crl = "/.well-known/pki/crl/iss-local";
  const std::string ocsp = "/.well-known/pki/ocsp/iss-local";
  auto first = Command({"curl", "-s", "-D", "-", "-o", "/dev/null", pki_ + crl});
  std::string etag = HeaderIn(first.output, "etag");
  ASSERT_FALSE(etag.empty()) << first.output;
  struct Case {
    const char* name;
    std::string request;  // sent on the PKI listener; "Connection: close" added
    const char* status;
  };
  const std::string close = "Host: x\r\nConnection: close\r\n";
  const std::vector<Case> cases = {
      {"ok", "GET " + crl + " HTTP/1.1\r\n" + close, "200"},
      {"head", "HEAD " + crl + " HTTP/1.1\r\n" + close, "200"},
      {"not modified",
       "GET " + crl + " HTTP/1.1\r\nIf-None-Match: " + etag + "\r\n" + close, "304"},
      {"not found", "GET /healthz HTTP/1.1\r\n" + close, "404"},
      {"method not allowed", "DELETE " + crl + " HTTP/1.1\r\n" + close, "405"},
      {"body too large",
       "POST " + ocsp + " HTTP/1.1\r\nContent-Length: 70000\r\n" + close, "413"},
      {"headers too large",
       "GET " + crl + " HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'y') + "\r\n" +
           close,
       "431"},
      {"malformed header", "GET " + crl + " HTTP/1.1\r\nNo colon here\r\n" + close,
       "400"},
      {"bad content length",
       "POST " + ocsp + " HTTP/1.1\r\nContent-Length: abc\r\n" + close, "400"},
  };
  for (const auto& c : cases) {
    RawClient client(server_->pki_address());
    ASSERT_TRUE(client.connected());
    client.Send(c.request + "\r\n");
    std::string response = client.ReadUntilClosed();
    EXPECT_EQ(response.substr(0, 12), std::string("HTTP/1.1 ") + c.status)
        << c.name << ": " << response.substr(0, 200);
    std::string date = HeaderIn(response, "date");
    long skew = SecondsFromNow(date);
    EXPECT_TRUE(skew >= 0 && skew < 120) << c.name << ": Date \"" << date << "\"";
  }
  // The API listener, through TLS.
  for (const auto& [target, status] : std::vector<std::pair<std::string, std::string>>{
           {"/healthz", "200"}, {"/api/v1/issuers", "401"}, {"/nowhere", "404"}}) {
    auto r = Command({"curl", "-s", "-D", "-", "-o", "/dev/null", "--cacert",
                      ca_cert_path_, api_ + target});
    EXPECT_EQ(r.output.substr(0, 12), "HTTP/1.1 " + status) << target;
    long skew = SecondsFromNow(HeaderIn(r.output, "date"));
    EXPECT_TRUE(skew >= 0 && skew < 120) << target << ": " << r.output;
  }
}

}  // namespace
}  // namespace certctl::testing
