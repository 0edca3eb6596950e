// Watches whether PostgreSQL answers, for /readyz: pings it every interval
// (through the pool, which replaces broken connections, so reconnecting
// needs nothing more) and logs once per change of state, never per request.
#pragma once

#include <chrono>
#include <thread>

#include "daemon/app.h"
#include "daemon/schedulers/stop_signal.h"

namespace certctl::daemon {

class DatabaseMonitor {
 public:
  explicit DatabaseMonitor(App& app,
                           std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~DatabaseMonitor();  // stops

  void Start();
  void Stop();
  // One check now (also used by the loop); returns whether the database answered.
  bool CheckOnce();

 private:
  void Loop();
  App& app_;
  std::chrono::milliseconds interval_;
  StopSignal stop_;
  std::thread thread_;
};

}  // namespace certctl::daemon
