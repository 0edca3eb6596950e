// The HTTP side of certctld: the I/O threads, the worker pool the handlers
// run on, the two listeners, and the signals (SIGTERM/SIGINT drain, SIGHUP
// reload).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/app.h"
#include "daemon/connections.h"
#include "daemon/tls_context.h"

namespace certctl::daemon {

struct ServerOptions {
  int io_threads = 2;
  int worker_threads = 8;  // handlers; they may wait for PostgreSQL
  // How long a drain waits for in-flight requests before cutting them off.
  std::chrono::milliseconds drain_timeout{10000};
  ConnectionLimits connections;  // per listener; see FitConnectionLimits
  SessionTimeouts timeouts;
};

class Server {
 public:
  Server(App& app, TlsContextHolder& tls, ServerOptions options);
  ~Server();  // drains if still running

  // Binds both listeners (Configuration error naming the address).
  Status Open(const std::string& api_address, const std::string& pki_address);
  // The bound addresses ("127.0.0.1:8443").
  std::string api_address() const;
  std::string pki_address() const;

  // Starts accepting and handles signals: SIGTERM/SIGINT request a stop,
  // SIGHUP calls `on_hangup` on the worker pool (never on an I/O thread).
  void Start(std::function<void()> on_hangup);

  // Blocks until SIGTERM or SIGINT asks to stop.
  void WaitForStop();

  // Graceful drain: /readyz turns 503, the listeners close (new connections
  // are refused), idle keep-alive connections close, requests in flight get
  // their responses (with Connection: close) for up to drain_timeout; then
  // the threads stop. Returns how many connections were still open and cut.
  size_t Drain();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace certctl::daemon
