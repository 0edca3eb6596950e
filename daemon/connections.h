// What the listeners and sessions share: the application, the worker pool
// the handlers run on (so that a handler waiting for PostgreSQL never stalls
// the I/O threads), the TLS context, and the open connections, which a drain
// waits for.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "daemon/app.h"
#include "daemon/tls_context.h"

namespace boost::asio {
class thread_pool;
}

namespace certctl::daemon {

// A session as the drain sees it.
class SessionControl {
 public:
  virtual ~SessionControl() = default;
  // Closes the connection unless a request is being answered; a busy session
  // closes itself after writing its response (draining turns keep-alive off).
  virtual void StopIfIdle() = 0;
};

// The open connections. Thread-safe.
class Connections {
 public:
  uint64_t Add(std::weak_ptr<SessionControl> session);
  void Remove(uint64_t id);
  size_t Open() const;
  void StopIdle();

 private:
  mutable std::mutex mu_;
  uint64_t next_ = 0;
  std::map<uint64_t, std::weak_ptr<SessionControl>> sessions_;
};

struct ServerShared {
  App& app;
  boost::asio::thread_pool& workers;
  TlsContextHolder& tls;
  Connections connections;
};

}  // namespace certctl::daemon
