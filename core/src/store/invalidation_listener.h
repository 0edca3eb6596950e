// Hearing cache invalidations: LISTEN on kInvalidationChannel (see
// invalidation.h) on a connection of its own.
//
// The connection is not taken from the Database pool: LISTEN is session state
// that must live exactly as long as the listener, and a pooled connection is
// shared. A listener whose connection breaks reports Unavailable and is
// discarded; the caller connects a new one (and should assume it missed
// notifications in between).
//
// Thread safety: one thread at a time (the daemon's listener thread).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "certctl/store/database.h"
#include "store/invalidation.h"

namespace certctl {

class InvalidationListener {
 public:
  // Connects with the URL and timeouts of `options` (pool_size is ignored) and
  // starts listening. Unavailable when the server cannot be reached.
  static Result<std::unique_ptr<InvalidationListener>> Connect(
      const DatabaseOptions& options);
  ~InvalidationListener();

  // Waits up to `timeout` for notifications and hands each well-formed one to
  // `fn`, in the order they were sent; malformed payloads are
  // skipped. Returns OK after a timeout or after delivering; Unavailable when
  // the connection was lost.
  Status Wait(std::chrono::milliseconds timeout,
              const std::function<void(const Invalidation&)>& fn);

 private:
  struct Impl;
  explicit InvalidationListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace certctl
