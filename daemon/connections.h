// What the listeners and sessions share: the application, the worker pool
// the handlers run on (so that a handler waiting for PostgreSQL never stalls
// the I/O threads), the TLS context, the session timeouts, and the open
// connections, which the connection caps and a drain work on.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/app.h"
#include "daemon/tls_context.h"

namespace boost::asio {
class thread_pool;
}

namespace certctl::daemon {

// How many connections each listener keeps open at most
// (listen_api_max_connections, listen_pki_max_connections).
//
// The API listener keeps `api_reserved` of its `api` slots for requests that
// must get through when it is full of ordinary work: /healthz, /readyz,
// /metrics and calls with an admin key (MayUseReserve). A connection is put
// in the reserve only when every ordinary slot is answering a request; it
// serves one request (and closes), and any other request gets 503 with
// Retry-After. The reserve is decided per request, not per address, because
// the load balancer and the operator may well share an address with the
// traffic. The PKI listener serves relying parties only and has no reserve.
struct ConnectionLimits {
  size_t api = 512;
  size_t api_reserved = 16;  // of `api`; less than `api`
  size_t pki = 2048;
};

// The time limits of a session (tests shorten them).
struct SessionTimeouts {
  // To receive a request's header (from the moment the session waits for
  // it: this is also how long an idle keep-alive connection is kept), and
  // again its body. A client that dribbles bytes gets no more: the limit is
  // on the whole read, not on silence (http_read_timeout).
  std::chrono::milliseconds read{30000};
  std::chrono::milliseconds write{30000};      // to send a response
  std::chrono::milliseconds handshake{10000};  // TLS handshake
  std::chrono::milliseconds shutdown{5000};    // TLS close_notify
};

// A session as the drain and the connection caps see it.
class SessionControl {
 public:
  virtual ~SessionControl() = default;
  // Closes the connection unless a request is being answered; a busy session
  // closes itself after writing its response (draining turns keep-alive off).
  virtual void StopIfIdle() = 0;
  // Room is needed for a new connection: as StopIfIdle, but for this session
  // only, and whether or not the server drains.
  virtual void Shed() = 0;
};

// The open connections and their slots. Thread-safe.
//
// A full pool makes room for a new connection by shedding the connection
// that has waited longest without a request being answered: connections
// closing anyway first, then idle keep-alive connections (their clients
// reconnect by themselves), then connections that have not sent a complete
// request yet (an idle or dribbling client). Connections whose request is being answered
// are never shed; when every slot holds one, the new connection is refused (closed at
// once). So idle connections can never starve requests, and the number of
// open descriptors stays bounded (a shed connection closes as soon as its
// strand runs, or after the response it is writing).
class Connections {
 public:
  Connections(ConnectionLimits limits, Metrics& metrics);

  struct Admission {
    uint64_t id;
    bool reserved;  // in the API listener's reserve: see ConnectionLimits
  };
  // A slot for `session`, a connection just accepted on `kind`'s listener;
  // nullopt when it must be refused. Counted in /metrics
  // (certctl_connections_shed_total, certctl_connections_refused_total).
  std::optional<Admission> Admit(ListenerKind kind,
                                 std::weak_ptr<SessionControl> session);
  // The session is answering a request (it will not be shed)...
  void SetBusy(uint64_t id);
  // ...or, on a kept-alive connection, waiting for the next one...
  void SetIdle(uint64_t id);
  // ...or closing after its last response (a TLS session waits for the
  // peer's close_notify; shed before anything else).
  void SetClosing(uint64_t id);
  void Remove(uint64_t id);
  size_t Open() const;
  void StopIdle();
  // A reserved slot answered 503 to an ordinary request.
  void CountReserveRefusal();
  const ConnectionLimits& limits() const { return limits_; }

 private:
  enum class Pool { kPki, kApi, kApiReserved };
  enum class State { kAwaitingRequest, kBusy, kIdleKeepAlive, kClosing };
  struct Entry {
    std::weak_ptr<SessionControl> session;
    Pool pool;
    State state = State::kAwaitingRequest;
    std::chrono::steady_clock::time_point since;  // of the current state
    bool shed = false;                            // told to go; its slot is free
  };
  size_t Capacity(Pool pool) const;
  // Picks the session to shed in a full pool and frees its slot; false when
  // every session of the pool is answering a request. Locked.
  bool MakeRoom(Pool pool, std::shared_ptr<SessionControl>& victim);
  void SetState(uint64_t id, State state);
  void PublishOpen(ListenerKind kind, size_t open);
  void PublishBusy(ListenerKind kind, size_t busy);
  static ListenerKind ListenerOf(Pool pool);

  const ConnectionLimits limits_;
  Metrics& metrics_;
  mutable std::mutex mu_;
  uint64_t next_ = 0;
  std::map<uint64_t, Entry> sessions_;
  size_t holding_[3] = {};  // slots held per Pool (shed sessions excluded)
  size_t open_[2] = {};     // sessions per listener (shed ones included)
  size_t busy_[2] = {};     // of those, answering a request
};

// Whether a request may use a reserved slot: the health endpoints (path of
// `target` exactly /healthz, /readyz or /metrics) or an `authorization`
// header carrying a configured key with the admin role.
bool MayUseReserve(std::string_view target, std::string_view authorization,
                   const Config& config);

struct ServerShared {
  ServerShared(App& a, boost::asio::thread_pool& w, TlsContextHolder& t,
               SessionTimeouts timeouts, ConnectionLimits limits)
      : app(a),
        workers(w),
        tls(t),
        timeouts(timeouts),
        connections(limits, a.metrics()) {}
  App& app;
  boost::asio::thread_pool& workers;
  TlsContextHolder& tls;
  const SessionTimeouts timeouts;
  Connections connections;
};

}  // namespace certctl::daemon
