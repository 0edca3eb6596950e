// Cache invalidations: every revocation, cache truncation, CRL regeneration
// and responder reset, by any certctld replica or certctl-admin, is announced
// on kInvalidationChannel with PostgreSQL NOTIFY when its transaction
// commits; an InvalidationFeed LISTENs for them on a connection of its own
// (session state the pool must not share).
//
// A feed whose connection breaks reports Unavailable and is discarded; the
// caller connects a new one and should assume it missed notifications in
// between. Thread safety: one thread at a time (certctld's watcher).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "certctl/store/database.h"

namespace certctl {

inline constexpr char kInvalidationChannel[] = "certctl_invalidate";

// What to drop: one notification's payload.
struct Invalidation {
  std::string scope;   // "ocsp", "crl" or "all"
  std::string issuer;  // empty: every issuer
  std::string serial;  // ocsp only; empty: every serial of the issuer

  // JSON payload, e.g. {"scope":"ocsp","issuer":"iss-local","serial":"ab12"}.
  std::string ToPayload() const;
  // InvalidArgument for anything that is not such a payload.
  static Result<Invalidation> FromPayload(std::string_view payload);
};

class InvalidationListener;  // core/src/store

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
