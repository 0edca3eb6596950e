// Fixture for tests of the real listeners in-process: the daemon fixture's
// App, a TLS certificate for 127.0.0.1 from the test CA, and a Server on
// free ports, driven with curl and with raw sockets (RawClient).
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/daemon_fixture.h"
#include "daemon/server.h"
#include "daemon/tls_context.h"
#include "support/eventually.h"

namespace certctl::testing {

// A TCP connection to a listener, for what curl will not do: send half a
// request, stall, or just sit there; plain, or TLS after StartTls. Blocking
// socket with a receive timeout.
class RawClient {
 public:
  explicit RawClient(const std::string& host_port);  // "127.0.0.1:1234"
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // TLS handshake, verifying the server's certificate for 127.0.0.1 against
  // `ca_file`; everything after goes through TLS. False when it fails.
  // Ignores SIGPIPE in the test process: OpenSSL writes with write(2), and a
  // server closing early must not kill the test binary.
  bool StartTls(const std::string& ca_file);
  // False when the peer has closed the connection (or it failed).
  bool Send(const std::string& bytes);
  // No more bytes from us (with TLS, a close_notify); the server can still
  // answer.
  void HalfClose();
  // Everything the server sends until it closes the connection or `limit`
  // passes (then what came so far).
  std::string ReadUntilClosed(std::chrono::milliseconds limit = std::chrono::seconds(10));
  // One HTTP response (header, and a body of its Content-Length), leaving
  // the connection open; "" when none came within `limit`.
  std::string ReadResponse(std::chrono::milliseconds limit = std::chrono::seconds(10));
  // Whether the server has closed the connection, waiting up to `limit` for
  // it (0: just look).
  bool ClosedByServer(std::chrono::milliseconds limit = std::chrono::milliseconds(0));

 private:
  // Up to `size` bytes; 0 when the peer closed, -1 on an error or at
  // `deadline`.
  long Receive(char* buf, size_t size, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  SSL_CTX* tls_ctx_ = nullptr;
  SSL* tls_ = nullptr;
  bool closed_ = false;  // Receive saw the end (EOF, reset, close_notify)
  std::string pending_;  // read past the last response
};

class ServerTest : public DaemonTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The options SetUp starts the server with (tests override fields and
  // call Restart).
  static daemon::ServerOptions DefaultOptions();
  // Stops the running server (drain) and starts a new one with `options`,
  // on a fresh App.
  void Restart(const daemon::ServerOptions& options);

  // curl -s -o /dev/null -w '%{http_code}' with extra arguments.
  std::string HttpCode(std::vector<std::string> args);
  // A sample of /metrics, straight from the App (0 when absent).
  double Metric(const std::string& name, const daemon::Labels& labels);

  std::string tls_cert_, tls_key_, api_, pki_;
  std::unique_ptr<daemon::TlsContextHolder> tls_;
  std::unique_ptr<daemon::Server> server_;
};

}  // namespace certctl::testing
