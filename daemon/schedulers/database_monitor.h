// Watches whether PostgreSQL answers, for /readyz: pings it every interval
// (through the pool, which replaces broken connections, so reconnecting
// needs nothing more) and logs once per change of state, never per request.
#pragma once

#include <chrono>

#include "daemon/app.h"
#include "daemon/schedulers/scheduler_thread.h"

namespace certctl::daemon {

class DatabaseMonitor {
 public:
  explicit DatabaseMonitor(App& app,
                           std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~DatabaseMonitor();  // stops

  // Checks at once, then every interval.
  void Start();
  void Stop();
  // One check now (also used by the loop); returns whether the database answered.
  bool CheckOnce();

 private:
  App& app_;
  std::chrono::milliseconds interval_;
  SchedulerThread thread_;
};

}  // namespace certctl::daemon
