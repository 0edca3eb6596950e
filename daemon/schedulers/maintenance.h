// The other periodic duties:
//  - OCSP responder rotation (RotateDueOcspResponders: bootstraps missing
//    responders and rotates those with less than
//    config.ocsp_responder_renew_before left), on the scheduler leader;
//  - cache upkeep (VerifyOcspCache with fix: expired, stale, corrupt and
//    old-responder rows leave ocsp_response_cache; PruneKeyBackups: replaced
//    responder keys past key_backup_retention go, audited), on the leader;
//  - the responder expiry metric, on every replica.
#pragma once

#include <chrono>
#include <functional>

#include "daemon/app.h"
#include "daemon/schedulers/scheduler_thread.h"

namespace certctl::daemon {

struct MaintenanceOptions {
  std::chrono::seconds rotation_interval{3600};
  std::chrono::seconds upkeep_interval{6 * 3600};
  std::chrono::seconds expiry_refresh{300};
};

class Maintenance {
 public:
  Maintenance(App& app, std::function<bool()> is_leader, MaintenanceOptions options = {});
  ~Maintenance();  // stops

  void Start();
  void Stop();

  // Each duty once (the loop's steps; tests call them directly).
  Status RotateResponders();
  Status CacheUpkeep();  // also PruneKeyBackups
  Status PruneKeyBackups();
  void RefreshResponderExpiry();

 private:
  using Steady = std::chrono::steady_clock;
  // One pass: whatever duty is due; returns how long to sleep.
  std::chrono::milliseconds Tick();
  App& app_;
  std::function<bool()> is_leader_;
  MaintenanceOptions options_;
  SchedulerThread thread_;
  // Loop thread only:
  Steady::time_point next_rotation_{};
  Steady::time_point next_upkeep_{};
  Steady::time_point next_expiry_{};
};

}  // namespace certctl::daemon
