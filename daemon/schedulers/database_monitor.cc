#include "daemon/schedulers/database_monitor.h"

namespace certctl::daemon {

DatabaseMonitor::DatabaseMonitor(App& app, std::chrono::milliseconds interval)
    : app_(app), interval_(interval) {}

DatabaseMonitor::~DatabaseMonitor() { Stop(); }

void DatabaseMonitor::Start() {
  thread_.Start([this] {
    CheckOnce();
    return interval_;
  });
}

void DatabaseMonitor::Stop() { thread_.Stop(); }

bool DatabaseMonitor::CheckOnce() {
  Status s = app_.db().Ping();
  bool up = s.ok();
  bool was_up = app_.readiness().database_up();
  app_.readiness().SetDatabaseUp(up);
  if (up != was_up) {
    if (up) {
      app_.logger()->info("database {} is reachable again; ready", app_.db().MaskedUrl());
    } else {
      app_.logger()->error(
          "database unreachable, not ready (serving cached CRLs and OCSP "
          "answers until their nextUpdate): {}",
          s.ToString());
    }
  }
  return up;
}

}  // namespace certctl::daemon
