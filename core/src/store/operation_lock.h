// Named operation locks shared by certctl-admin and every certctld replica.
//
// A lock is a PostgreSQL session advisory lock keyed by a hash of its name
// ("crl:iss-local"), held on a dedicated pooled connection for as long as the
// OperationLock lives. It is released when the object dies or when the
// process or its connection does. Who holds it is recorded so a refused
// caller can name the holder.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "certctl/store/database.h"
#include "certctl/util/clock.h"
#include "store/session.h"

namespace certctl {

struct LockHolder {
  std::string holder;  // e.g. "certctl-admin crl regenerate" or "certctld"
  std::string host;
  int pid = 0;          // process id on that host
  int backend_pid = 0;  // PostgreSQL backend holding the lock
  std::optional<TimePoint> since;

  // "certctld (pid 1234 on host-a, since 2026-11-27T17:00:00Z)"
  std::string Describe() const;
};

struct LockOwner {
  std::string holder;  // what we are, for the holder record
  std::string host;
  int pid = 0;
};

// Our own identity: the given holder name, this host and pid.
LockOwner ThisProcess(const std::string& holder);

class OperationLock {
 public:
  // Takes the lock or, when another session holds it, keeps trying until
  // `wait` has passed; then Busy with the holder described.
  static Result<std::unique_ptr<OperationLock>> Acquire(
      Database& db, const std::string& name, const LockOwner& owner,
      std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  // Takes the lock if it is free, else returns nullptr (no error): for
  // schedulers electing one runner.
  static Result<std::unique_ptr<OperationLock>> TryAcquire(Database& db,
                                                           const std::string& name,
                                                           const LockOwner& owner);

  // The current holder, if any.
  static Result<std::optional<LockHolder>> FindHolder(Database& db,
                                                      const std::string& name);

  ~OperationLock();
  const std::string& name() const { return name_; }
  // The connection holding the lock; operations may run their transactions
  // on it (they then hold the lock for sure while they work).
  Session& session() { return *session_; }

 private:
  OperationLock(std::string name, std::unique_ptr<Session> session)
      : name_(std::move(name)), session_(std::move(session)) {}
  std::string name_;
  std::unique_ptr<Session> session_;
};

}  // namespace certctl
