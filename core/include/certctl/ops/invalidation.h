// Hearing cache invalidations (certctl/model/invalidation.h): an
// InvalidationFeed LISTENs on kInvalidationChannel on a connection of its
// own (session state the pool must not share).
//
// A feed whose connection breaks reports Unavailable and is discarded; the
// caller connects a new one and should assume it missed notifications in
// between. Thread safety: one thread at a time (certctld's watcher).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "certctl/model/invalidation.h"
#include "certctl/store/database.h"

namespace certctl {
class InvalidationListener;  // core/src/store/invalidation_listener.h
}  // namespace certctl

namespace certctl::ops {

class InvalidationFeed {
 public:
  // Listens with the URL and timeouts `db` was opened with (not one of its
  // pooled connections). Unavailable when the server cannot be reached.
  static Result<std::unique_ptr<InvalidationFeed>> Connect(const Database& db);
  ~InvalidationFeed();

  // Waits up to `timeout` and hands each well-formed notification to `fn`, in
  // the order they were sent (malformed payloads are skipped). OK after a
  // timeout or after delivering; Unavailable when the connection was lost.
  Status Wait(std::chrono::milliseconds timeout,
              const std::function<void(const Invalidation&)>& fn);

 private:
  explicit InvalidationFeed(std::unique_ptr<InvalidationListener> listener);
  std::unique_ptr<InvalidationListener> listener_;
};

}  // namespace certctl::ops
