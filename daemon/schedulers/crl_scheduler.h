// crlGenerationLoop: keeps every issuer's CRLs fresh.
//
// One certctld at a time runs it: the replica holding the session advisory
// lock "scheduler:crl" (the leader; the others retry every few seconds and
// take over when the leader's connection goes away). The leader
//  - at start (and whenever it becomes leader) regenerates the CRLs of any
//    issuer whose cached CRL is missing, not ok (corrupt, bad signature,
//    stale, count mismatch) or past half its validity;
//  - every config.crl_generation_interval regenerates every issuer's CRLs;
//  - a short debounce after a revocation or an invalidation (Changed(),
//    called by the NOTIFY watcher for scope "crl" from any replica, and by
//    this process's revoke handler) regenerates that issuer's CRLs if they
//    no longer match the database. The check also ends the echo: a
//    regeneration NOTIFYs "crl" too, and then finds nothing to do.
// Each run is RegenerateCrl under the per-issuer CRL lock (lock_wait 0: Busy
// means certctl-admin or a fetch is on it), which writes its
// crl_generation_events row, also on failure.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "certctl/ops/crl_ops.h"
#include "certctl/ops/leadership.h"
#include "daemon/app.h"
#include "daemon/schedulers/scheduler_thread.h"

namespace certctl::daemon {

struct CrlSchedulerOptions {
  std::chrono::seconds interval{3600};           // config.crl_generation_interval
  std::chrono::milliseconds debounce{1000};      // quiet time after a change
  std::chrono::milliseconds max_delay{5000};     // a stream of changes waits at most this
  std::chrono::milliseconds leader_retry{3000};  // followers try to take over this often
};

inline constexpr char kCrlSchedulerLock[] = "scheduler:crl";

class CrlScheduler {
 public:
  CrlScheduler(App& app, CrlSchedulerOptions options);
  ~CrlScheduler();  // stops

  void Start();
  void Stop();
  // `issuer`'s revocations or cache changed (empty: every issuer).
  void Changed(const std::string& issuer);
  bool leader() const;
  // How often the loop has kept or tried to take leadership, and how many
  // checks (RegenerateIfNeeded) found the CRLs current and did nothing, the
  // way the echo of a regeneration's own NOTIFY ends. For tests and logs.
  int64_t leadership_checks() const { return leadership_checks_; }
  int64_t found_current() const { return found_current_; }

  // One pass of each duty, for tests and for the loop.
  // Regenerates `issuer` when its cache is not ok or past half its validity;
  // returns whether it regenerated.
  bool RegenerateIfNeeded(const std::string& issuer, ops::CrlTrigger trigger);
  Status Regenerate(const std::string& issuer, ops::CrlTrigger trigger);

 private:
  struct Pending {
    std::chrono::steady_clock::time_point first;
    std::chrono::steady_clock::time_point due;
  };
  using Steady = std::chrono::steady_clock;
  // One pass of the loop; returns how long to sleep.
  std::chrono::milliseconds Tick();
  void KeepLeadership();
  void RunDue();
  void ForEachIssuer(const std::function<void(const std::string&)>& fn);
  Result<bool> NeedsRegeneration(const std::string& issuer);

  App& app_;
  CrlSchedulerOptions options_;
  SchedulerThread thread_;
  // Loop thread only:
  Steady::time_point next_leadership_check_{};
  Steady::time_point next_scheduled_{};
  bool was_leader_ = false;
  mutable std::mutex mu_;
  std::map<std::string, Pending> pending_;  // "" = every issuer
  ops::Leadership leadership_;              // loop thread only
  bool leader_ = false;                     // guarded by mu_
  std::map<std::string, bool> failing_;     // loop thread only: log once per streak
  std::atomic<int64_t> leadership_checks_{0};
  std::atomic<int64_t> found_current_{0};
};

}  // namespace certctl::daemon
