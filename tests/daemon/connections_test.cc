// The connection caps and slow clients, against the real listeners
// in-process: idle connections beyond the cap never starve requests (not
// even under a low descriptor limit), idle keep-alives are shed first, the
// API listener's reserve keeps health checks and admin calls going, and
// every slow, stalled or oversized request gets a bounded outcome without
// holding a worker. Timeouts and caps are made small so the tests are fast.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "daemon/server_fixture.h"
#include "store/operation_lock.h"

namespace certctl::testing {
namespace {

using std::chrono::milliseconds;

class ConnectionsTest : public ServerTest {
 protected:
  // A CRL request blocked in its handler: no cached CRL, and the CRL lock
  // held "elsewhere" so that live signing waits (up to 10 s) for it.
  std::unique_ptr<OperationLock> HoldCrlLock() {
    Sql(url_, "DELETE FROM crl_cache");
    auto lock = OperationLock::Acquire(db(), "crl:iss-local", ThisProcess("test"));
    EXPECT_TRUE(lock.ok()) << lock.status().ToString();
    return lock.ok() ? std::move(*lock) : nullptr;
  }
  double Open(const char* listener) {
    return Metric("certctl_connections_open", {{"listener", listener}});
  }
  double Busy(const char* listener) {
    return Metric("certctl_connections_busy", {{"listener", listener}});
  }
  // How many of `clients` the server has closed (without waiting).
  static int ClosedCount(std::vector<std::unique_ptr<RawClient>>& clients) {
    int closed = 0;
    for (auto& c : clients) closed += c->ClosedByServer() ? 1 : 0;
    return closed;
  }
  static std::vector<std::unique_ptr<RawClient>> OpenIdle(const std::string& address,
                                                          int n) {
    std::vector<std::unique_ptr<RawClient>> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(std::make_unique<RawClient>(address));
      EXPECT_TRUE(out.back()->connected()) << i;
    }
    return out;
  }
  const std::string crl_ = "/.well-known/pki/crl/iss-local";
};

// Many more idle connections than the caps allow, on both listeners: the
// listeners shed the idle ones and every real request is served.
TEST_F(ConnectionsTest, IdleConnectionsBeyondTheCapDoNotStarveRequests) {
  auto options = DefaultOptions();
  options.connections = {.api = 8, .api_reserved = 2, .pki = 8};
  Restart(options);
  auto idle_pki = OpenIdle(server_->pki_address(), 40);
  auto idle_api = OpenIdle(server_->api_address(), 40);
  int served = 0;
  for (int i = 0; i < 5; ++i) {
    served += HttpCode({pki_ + crl_}) == "200";
    served += HttpCode({api_ + "/healthz"}) == "200";
  }
  EXPECT_EQ(served, 10);
  EXPECT_TRUE(Eventually([&] { return Open("pki") <= 8 && Open("api") <= 8; }))
      << Open("pki") << " " << Open("api");
  // At most the cap stays open: the rest were closed to make room.
  EXPECT_TRUE(Eventually([&] { return ClosedCount(idle_pki) >= 32; }));
  EXPECT_TRUE(Eventually([&] { return ClosedCount(idle_api) >= 32; }));
  // (The real requests' own connections close after their answer, so they
  // need not all shed one.)
  EXPECT_GE(Metric("certctl_connections_shed_total",
                   {{"listener", "pki"}, {"reason", "awaiting_request"}}),
            32);
  EXPECT_GE(Metric("certctl_connections_shed_total",
                   {{"listener", "api"}, {"reason", "awaiting_request"}}),
            32);
  EXPECT_EQ(Metric("certctl_connections_limit", {{"listener", "pki"}}), 8);
  auto metrics = Command({"curl", "-s", "--cacert", ca_cert_path_, api_ + "/metrics"});
  EXPECT_NE(metrics.output.find("certctl_connections_shed_total{listener=\"pki\","
                                "reason=\"awaiting_request\"}"),
            std::string::npos)
      << metrics.output;
}

// Leaves this process exactly `spare` free descriptors (a lower
// RLIMIT_NOFILE, and the gaps below the highest open descriptor filled);
// restores everything when the test ends, however it ends.
class DescriptorBudget {
 public:
  explicit DescriptorBudget(int spare) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int highest = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
      highest = std::max(highest, std::stoi(e.path().filename().string()));
    }
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(highest + 1 + spare);
    ok_ = ::setrlimit(RLIMIT_NOFILE, &low) == 0;
    for (int fd; ok_ && (fd = ::dup(0)) >= 0;) {
      if (fd > highest) {
        ::close(fd);
        break;
      }
      fillers_.push_back(fd);
    }
  }
  ~DescriptorBudget() {
    for (int fd : fillers_) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
  std::vector<int> fillers_;
};

// The finding, in-process: idle connections under a low descriptor limit.
// Without a cap the listener takes idle connections until accept() fails
// for want of descriptors, and real requests wait behind them in the
// backlog until the idle ones time out. With a cap under the limit, the
// idle ones are shed and the requests served.
TEST_F(ConnectionsTest, IdleConnectionsUnderALowDescriptorLimitDoNotStarveRequests) {
  auto options = DefaultOptions();
  options.connections = {.api = 16, .api_reserved = 2, .pki = 16};
  Restart(options);
  ASSERT_EQ(HttpCode({pki_ + crl_}), "200");  // the CRL is in memory now
  // 100 descriptors for the idle clients (this process holds both ends of
  // each connection), 60 for everything else: the server's side, curl's
  // pipes.
  DescriptorBudget budget(160);
  ASSERT_TRUE(budget.ok());
  auto idle = OpenIdle(server_->pki_address(), 100);
  int served = 0;
  for (int i = 0; i < 5; ++i) {
    served += HttpCode({"--max-time", "3", pki_ + crl_}) == "200";
    served += HttpCode({"--max-time", "3", api_ + "/healthz"}) == "200";
  }
  EXPECT_EQ(served, 10);
  EXPECT_TRUE(Eventually([&] { return Open("pki") <= 16; })) << Open("pki");
}

// Under pressure the idle keep-alive connections go first, oldest first;
// then connections that have not sent a request.
TEST_F(ConnectionsTest, IdleKeepAlivesAreShedFirst) {
  auto options = DefaultOptions();
  options.connections.pki = 4;
  Restart(options);
  std::string request = "GET " + crl_ + " HTTP/1.1\r\nHost: x\r\n\r\n";
  RawClient kept1(server_->pki_address()), kept2(server_->pki_address());
  for (RawClient* c : {&kept1, &kept2}) {
    ASSERT_TRUE(c->Send(request));
    ASSERT_EQ(c->ReadResponse().substr(0, 12), "HTTP/1.1 200");
    // Idle from the server's side too (its write may finish after we read).
    ASSERT_TRUE(Eventually([&] { return Busy("pki") == 0; }));
  }
  RawClient fresh1(server_->pki_address()), fresh2(server_->pki_address());
  ASSERT_TRUE(Eventually([&] { return Open("pki") == 4 && Busy("pki") == 0; }));
  auto shed = [&](const char* reason) {
    return Metric("certctl_connections_shed_total",
                  {{"listener", "pki"}, {"reason", reason}});
  };
  // Each new connection takes the place of one idle connection, in order.
  std::vector<RawClient*> expected_order = {&kept1, &kept2, &fresh1, &fresh2};
  std::vector<std::unique_ptr<RawClient>> newcomers;
  for (size_t i = 0; i < expected_order.size(); ++i) {
    newcomers.push_back(std::make_unique<RawClient>(server_->pki_address()));
    EXPECT_TRUE(expected_order[i]->ClosedByServer(milliseconds(5000))) << i;
    for (size_t later = i + 1; later < expected_order.size(); ++later) {
      EXPECT_FALSE(expected_order[later]->ClosedByServer()) << i << " " << later;
    }
  }
  EXPECT_EQ(shed("idle_keepalive"), 2);
  EXPECT_EQ(shed("awaiting_request"), 2);
  // The newcomers are served.
  EXPECT_TRUE(newcomers[0]->Send(request));
  EXPECT_EQ(newcomers[0]->ReadResponse().substr(0, 12), "HTTP/1.1 200");
}

// Every ordinary API slot is answering a (stuck) request: the reserve still
// serves health checks and admin-key calls, one per connection, and turns
// everything else away with 503 and Retry-After.
TEST_F(ConnectionsTest, ReserveServesHealthAndAdminCallsWhenTheListenerIsBusy) {
  auto options = DefaultOptions();
  options.connections = {.api = 3, .api_reserved = 1, .pki = 8};
  Restart(options);
  auto lock = HoldCrlLock();
  ASSERT_TRUE(lock);
  std::string stuck[2];
  std::thread clients[2];
  for (int i = 0; i < 2; ++i) {
    clients[i] = std::thread([&, i] { stuck[i] = HttpCode({api_ + crl_}); });
  }
  // (EXPECT, not ASSERT: the client threads must be joined below.)
  EXPECT_TRUE(Eventually([&] { return Busy("api") == 2; })) << Busy("api");
  struct Case {
    std::string target;
    std::string key;
    const char* status;
  };
  const std::vector<Case> cases = {
      {"/healthz", "", "200"},
      {"/readyz", "", "200"},
      {"/metrics", "", "200"},
      {"/api/v1/issuers", kAdminKey, "200"},
      {"/api/v1/issuers", kReaderKey, "503"},
      {"/api/v1/issuers", "", "503"},
      {crl_, "", "503"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"-D",        "-",        "-o",
                                     "/dev/null", "--cacert", ca_cert_path_};
    if (!c.key.empty()) args.insert(args.end(), {"-H", "Authorization: Bearer " + c.key});
    args.push_back(api_ + c.target);
    args.insert(args.begin(), {"curl", "-s", "--max-time", "5"});
    auto r = Command(args);
    EXPECT_EQ(r.output.substr(0, 12), std::string("HTTP/1.1 ") + c.status)
        << c.target << " " << c.key << ": " << r.output;
    if (std::string(c.status) == "503") {
      EXPECT_NE(r.output.find("Retry-After: 1"), std::string::npos) << r.output;
    }
  }
  EXPECT_EQ(Metric("certctl_connections_refused_total",
                   {{"listener", "api"}, {"reason", "reserve"}}),
            3);
  lock.reset();
  for (auto& t : clients) t.join();
  EXPECT_EQ(stuck[0], "200");
  EXPECT_EQ(stuck[1], "200");
}

// When every slot is answering a request, a new connection is closed at
// once (and counted) rather than left waiting.
TEST_F(ConnectionsTest, FullListenerRefusesNewConnectionsAtOnce) {
  auto options = DefaultOptions();
  options.connections.pki = 1;
  Restart(options);
  auto lock = HoldCrlLock();
  ASSERT_TRUE(lock);
  std::string stuck;
  std::thread client([&] { stuck = HttpCode({pki_ + crl_}); });
  EXPECT_TRUE(Eventually([&] { return Busy("pki") == 1; }));  // joined below
  RawClient refused(server_->pki_address());
  EXPECT_TRUE(refused.ClosedByServer(milliseconds(5000)));
  EXPECT_EQ(Metric("certctl_connections_refused_total",
                   {{"listener", "pki"}, {"reason", "full"}}),
            1);
  lock.reset();
  client.join();
  EXPECT_EQ(stuck, "200");
  EXPECT_EQ(HttpCode({pki_ + crl_}), "200");  // the slot is free again
}

// Slow, stalled, truncated and oversized requests on the PKI listener: each
// ends in a bounded outcome, answered or closed at the read timeout.
TEST_F(ConnectionsTest, SlowAndMalformedRequestsGetBoundedOutcomes) {
  auto options = DefaultOptions();
  options.timeouts.read = milliseconds(300);
  Restart(options);
  const std::string ocsp = "POST /.well-known/pki/ocsp/iss-local HTTP/1.1\r\nHost: x\r\n";
  const std::string type = "Content-Type: application/ocsp-request\r\n";
  std::string chunked_body;
  for (int i = 0; i < 20; ++i)
    chunked_body += "1000\r\n" + std::string(4096, 'x') + "\r\n";
  struct Case {
    const char* name;
    std::string bytes;    // sent at once
    bool dribble;         // then one more header byte every 20 ms, forever
    bool half_close;      // then shut down our side
    std::string outcome;  // the status line's code, or "closed" (no answer)
    bool timed_out;       // counted as request_timeout
  };
  const std::vector<Case> cases = {
      {"nothing sent (idle)", "", false, false, "closed", false},
      {"header dribbled (slowloris)", "GET /.well-known/pki/crl/iss-local HTTP/1.1\r\n",
       true, false, "closed", true},
      {"announced body never sent", ocsp + type + "Content-Length: 100\r\n\r\n", false,
       false, "closed", true},
      {"body stalls halfway",
       ocsp + type + "Content-Length: 100\r\n\r\n" + std::string(50, 'x'), false, false,
       "closed", true},
      {"100-continue, body never sent",
       ocsp + type + "Expect: 100-continue\r\nContent-Length: 100\r\n\r\n", false, false,
       "closed", true},
      {"truncated body, client half-closed",
       ocsp + type + "Content-Length: 100\r\n\r\n" + std::string(50, 'x'), false, true,
       "400", false},
      {"header too large",
       "GET /x HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'y') + "\r\n\r\n", false,
       false, "431", false},
      {"body too large, announced", ocsp + type + "Content-Length: 70000\r\n\r\n", false,
       false, "413", false},
      {"body too large, chunked",
       ocsp + type + "Transfer-Encoding: chunked\r\n\r\n" + chunked_body, false, false,
       "413", false},
      {"bad Content-Length", ocsp + type + "Content-Length: 1x\r\n\r\n", false, false,
       "400", false},
      {"bad chunk", ocsp + type + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", false,
       false, "400", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    double timeouts_before = Metric("certctl_connection_errors_total",
                                    {{"listener", "pki"}, {"stage", "request_timeout"}});
    RawClient client(server_->pki_address());
    ASSERT_TRUE(client.connected());
    if (!c.bytes.empty()) client.Send(c.bytes);
    if (c.half_close) client.HalfClose();
    std::atomic<bool> stop{false};
    std::thread dribbler;
    if (c.dribble) {
      dribbler = std::thread([&] {
        // The client's pace, not a wait for the server.
        while (!stop && client.Send("X")) std::this_thread::sleep_for(milliseconds(20));
      });
    }
    // Far longer than the 300 ms read timeout: the outcome must come first.
    std::string answer = client.ReadUntilClosed(milliseconds(5000));
    bool closed = client.ClosedByServer();
    stop = true;
    if (dribbler.joinable()) dribbler.join();
    EXPECT_TRUE(closed);
    // A 100 Continue is not an answer.
    if (answer.starts_with("HTTP/1.1 100")) answer.erase(0, answer.find("\r\n\r\n") + 4);
    if (c.outcome == "closed") {
      EXPECT_EQ(answer, "");
    } else {
      EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 " + c.outcome) << answer.substr(0, 300);
    }
    EXPECT_TRUE(Eventually([&] {
      double counted = Metric("certctl_connection_errors_total",
                              {{"listener", "pki"}, {"stage", "request_timeout"}});
      return counted == timeouts_before + (c.timed_out ? 1 : 0);
    }));
  }
  // Nothing reached a handler but the malformed and oversized requests the
  // session answered itself.
  EXPECT_EQ(Metric("certctl_http_requests_total",
                   {{"endpoint", "ocsp_post"}, {"status", "200"}}),
            0);
}

// A TLS client that never finishes its handshake is cut off at the
// handshake timeout, and counted.
TEST_F(ConnectionsTest, StalledTlsHandshakeIsCutOff) {
  auto options = DefaultOptions();
  options.timeouts.handshake = milliseconds(300);
  Restart(options);
  RawClient client(server_->api_address());
  ASSERT_TRUE(client.connected());
  client.Send("\x16\x03\x01");  // the first bytes of a ClientHello, then nothing
  EXPECT_TRUE(client.ClosedByServer(milliseconds(5000)));
  EXPECT_TRUE(Eventually([&] {
    return Metric("certctl_connection_errors_total",
                  {{"listener", "api"}, {"stage", "tls_handshake"}}) == 1;
  }));
}

// Slow clients cost no worker: with one worker thread and a long read
// timeout, requests are served while a crowd of stalled clients waits.
TEST_F(ConnectionsTest, SlowClientsDoNotHoldWorkers) {
  auto options = DefaultOptions();
  options.worker_threads = 1;
  options.timeouts.read = std::chrono::seconds(30);
  Restart(options);
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<RawClient>(server_->pki_address()));
    slow.back()->Send("GET " + crl_ + " HTTP/1.1\r\nHost: x\r\n");  // header unfinished
    slow.push_back(std::make_unique<RawClient>(server_->pki_address()));
    slow.back()->Send(
        "POST /.well-known/pki/ocsp/iss-local HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/ocsp-request\r\nContent-Length: 100\r\n\r\n");
  }
  EXPECT_TRUE(Eventually([&] { return Open("pki") == 16; }));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(HttpCode({pki_ + crl_}), "200");
    EXPECT_EQ(HttpCode({api_ + "/healthz"}), "200");
  }
  // Served while every slow client is still waiting.
  EXPECT_EQ(ClosedCount(slow), 0);
}

}  // namespace
}  // namespace certctl::testing
