// The LISTEN/NOTIFY thread: hears every replica's (and certctl-admin's)
// invalidations on a connection of its own and applies them to this
// process's in-memory caches:
//   scope "ocsp"/"all" -> OcspService::Invalidate
//   scope "crl"/"all"  -> CrlService::Invalidate and `crl_changed` (certctld:
//                         the CRL loader, which loads the new CRL off the
//                         request path, and CrlScheduler::Changed)
// It reconnects by itself (logging once per lost/regained connection) and,
// after a reconnect, drops everything in memory: notifications sent while it
// was away are lost.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

#include "certctl/ops/invalidation.h"
#include "daemon/app.h"
#include "daemon/schedulers/scheduler_thread.h"

namespace certctl::daemon {

class InvalidationWatcher {
 public:
  // `crl_changed` is told of CRL-scope invalidations (the CRL scheduler).
  InvalidationWatcher(App& app,
                      std::function<void(const std::string& issuer)> crl_changed,
                      std::chrono::milliseconds retry = std::chrono::seconds(2));
  ~InvalidationWatcher();  // stops

  void Start();
  void Stop();
  // Applies one invalidation (the loop's dispatch; tests call it directly).
  void Apply(const Invalidation& what);
  // Whether the LISTEN connection is up (for tests and logs).
  bool listening() const { return listening_; }
  int64_t received() const { return received_; }

 private:
  // One pass: connects when needed, then waits a slice for notifications.
  std::chrono::milliseconds Tick();
  App& app_;
  std::function<void(const std::string&)> crl_changed_;
  std::chrono::milliseconds retry_;
  SchedulerThread thread_;
  // Loop thread only:
  std::unique_ptr<ops::InvalidationFeed> feed_;
  bool ever_connected_ = false;
  bool lost_logged_ = false;
  std::atomic<bool> listening_{false};
  std::atomic<int64_t> received_{0};
};

}  // namespace certctl::daemon
