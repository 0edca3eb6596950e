// Operation locks as an operator sees them: `certctl-admin locks list` and
// `locks release NAME` (the lock of a holder that is gone).
//
// A lock (certctl/ops/op.h, RunMutation) is a PostgreSQL advisory lock held
// by the holder's database session, so it goes when that session ends. A
// holder that died without its session ending (its host lost power, a
// network that drops packets instead of resetting the connection) leaves the
// lock held until PostgreSQL notices, which can take hours; release ends that
// session.
//
// CONTRACT (implemented in core/src/ops/lock_ops.cc; JSON in lock_json.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/ops/op.h"

namespace certctl::ops {

// Whether a lock's holder still runs.
enum class HolderState {
  kAlive,    // its pid runs on this host (and started before it took the lock)
  kGone,     // no such process on this host (or the pid now belongs to a newer one)
  kUnknown,  // it is on another host: this one cannot tell
};
std::string_view HolderStateName(HolderState state);  // "alive", "gone", "unknown"

struct OperationLockState {
  std::string name;     // "crl:iss-local"
  std::string holder;   // "certctl-admin crl.regenerate (alice)"
  std::string host;     // where the holder runs
  int pid = 0;          // the holder's process id there
  int backend_pid = 0;  // the database session holding the lock
  std::optional<TimePoint> since;
  HolderState state = HolderState::kUnknown;
  std::string state_reason;  // how that was decided, for people
};

struct OperationLocks {
  std::string host;                       // this host, against which holders are checked
  std::vector<OperationLockState> locks;  // by name
};

// `locks list`: every lock held now. A holder that is gone is a warning
// finding "lock.holder_gone" naming the release command. Read-only.
Result<OperationLocks> ListOperationLocks(OpContext& ctx, OpReport& report);

struct OperationLockReleased {
  OperationLockState lock;  // as it was
  bool released = false;    // false in a dry run
};

// `locks release NAME`: ends the database session that holds lock `name`
// (pg_terminate_backend) when its holder is gone, then waits (up to 10 s)
// until the lock is free. Audited ("locks.release", with the holder), not
// locked; dry run: the plan only. NotFound when no one holds `name`; Busy
// (naming the holder) when the holder runs on this host, or runs on another
// host and `force` (the operator knows it is gone) was not given;
// PermissionDenied when the database role may not end that session;
// Unavailable when the lock is still held after the wait.
Result<OperationLockReleased> ReleaseOperationLock(OpContext& ctx,
                                                   const std::string& name, bool force,
                                                   OpReport& report);

}  // namespace certctl::ops
