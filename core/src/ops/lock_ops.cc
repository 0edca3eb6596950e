// `locks list` and `locks release` (certctl/ops/lock_ops.h).
#include "certctl/ops/lock_ops.h"

#include <algorithm>
#include <thread>

#include "certctl/util/process.h"
#include "store/lock_registry.h"

namespace certctl::ops {
namespace {

// How long a release waits for PostgreSQL to let go of the ended session's lock.
constexpr auto kReleaseWait = std::chrono::seconds(10);

OperationLockState Judge(const HeldLock& held, const std::string& this_host) {
  const LockHolder& h = held.holder;
  OperationLockState s{
      held.name, h.holder, h.host, h.pid, h.backend_pid, h.since, HolderState::kUnknown,
      ""};
  if (h.host != this_host) {
    s.state_reason = "it runs on " + h.host + ", which cannot be checked from " +
                     this_host + "; check there";
    return s;
  }
  bool runs = LocalProcessRuns(h.pid, h.since);
  s.state = runs ? HolderState::kAlive : HolderState::kGone;
  s.state_reason = runs ? "pid " + std::to_string(h.pid) + " runs on this host"
                        : "no process " + std::to_string(h.pid) +
                              " that took the lock runs on this host";
  return s;
}

Result<std::vector<OperationLockState>> HeldNow(OpContext& ctx) {
  ASSIGN_OR_RETURN(auto held, LockRegistry::ListHeld(ctx.db));
  std::string host = HostName();
  std::vector<OperationLockState> out;
  for (const auto& h : held) out.push_back(Judge(h, host));
  return out;
}

// Why a release is refused; OK when it may go ahead.
Status MayRelease(const OperationLockState& lock, bool force) {
  LockHolder who{lock.holder, lock.host, lock.pid, lock.backend_pid, lock.since};
  if (lock.state == HolderState::kAlive) {
    return Status::Busy("lock " + lock.name + " is held by " + who.Describe() +
                        ", which is still running; it lets go when it ends");
  }
  if (lock.state == HolderState::kUnknown && !force) {
    return Status::Busy("lock " + lock.name + " is held by " + who.Describe() + ": " +
                        lock.state_reason +
                        " (run `certctl-admin locks release` there, or give --force "
                        "once you know that process is gone)");
  }
  return Status::Ok();
}

// Ends the holding session and waits until the lock is free.
Status EndSession(OpContext& ctx, const OperationLockState& lock, OpReport& report) {
  ASSIGN_OR_RETURN(bool ended,
                   LockRegistry::EndHoldingSession(ctx.db, lock.name, lock.backend_pid));
  if (ended) {
    report.steps.push_back("ended database session " + std::to_string(lock.backend_pid) +
                           ", which held lock " + lock.name);
  }
  auto deadline = std::chrono::steady_clock::now() + kReleaseWait;
  for (;;) {
    ASSIGN_OR_RETURN(auto holder, OperationLock::FindHolder(ctx.db, lock.name));
    if (!holder || holder->backend_pid != lock.backend_pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable("lock " + lock.name + " is still held by session " +
                                 std::to_string(lock.backend_pid) + " after " +
                                 std::to_string(kReleaseWait.count()) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  report.steps.push_back("lock " + lock.name + " is free");
  return Status::Ok();
}

}  // namespace

std::string_view HolderStateName(HolderState state) {
  switch (state) {
    case HolderState::kAlive:
      return "alive";
    case HolderState::kGone:
      return "gone";
    case HolderState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Result<OperationLocks> ListOperationLocks(OpContext& ctx, OpReport& report) {
  report.operation = "locks.list";
  report.target = "*";
  report.dry_run = ctx.dry_run;
  OperationLocks result{HostName(), {}};
  ASSIGN_OR_RETURN(result.locks, HeldNow(ctx));
  for (const auto& l : result.locks) {
    if (l.state != HolderState::kGone) continue;
    report.AddFinding("warning", "lock.holder_gone", l.name,
                      "held for " + l.holder + ", but " + l.state_reason +
                          ": `certctl-admin locks release " + l.name + "` frees it");
  }
  return result;
}

Result<OperationLockReleased> ReleaseOperationLock(OpContext& ctx,
                                                   const std::string& name, bool force,
                                                   OpReport& report) {
  report.operation = "locks.release";
  report.target = name;
  ASSIGN_OR_RETURN(auto held, HeldNow(ctx));
  auto it = std::find_if(held.begin(), held.end(),
                         [&](const OperationLockState& l) { return l.name == name; });
  if (it == held.end()) return Status::NotFound("no one holds lock " + name);
  OperationLockReleased result{*it, false};
  const OperationLockState& lock = result.lock;
  MutationSpec spec{"locks.release",
                    name,
                    {{"holder", lock.holder},
                     {"host", lock.host},
                     {"pid", lock.pid},
                     {"backend_pid", lock.backend_pid},
                     {"state", HolderStateName(lock.state)},
                     {"force", force}},
                    {}};
  return RunMutation(ctx, spec, report, [&]() -> Result<OperationLockReleased> {
    RETURN_IF_ERROR(MayRelease(lock, force));
    report.plan.push_back("end database session " + std::to_string(lock.backend_pid) +
                          ", which holds lock " + name + " for " + lock.holder + " (" +
                          lock.state_reason + ")");
    if (ctx.dry_run) return result;
    RETURN_IF_ERROR(EndSession(ctx, lock, report));
    result.released = true;
    return result;
  });
}

}  // namespace certctl::ops
