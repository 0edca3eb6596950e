// The CRL loader: loads each new CRL once, off the request path. A NOTIFY
// "crl" (a regeneration by certctl-admin or another replica) marks the
// issuer's CRLs in memory for a reload (CrlService::MarkForReload) and wakes
// this thread, which reads, parses and verifies the new row
// (CrlService::ReloadMarked) while the requests keep getting the previous,
// still valid CRL. A CRL that fails the check is never served.
//
// Thread-safe. Stop() waits for a reload in progress.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "daemon/app.h"
#include "daemon/schedulers/scheduler_thread.h"

namespace certctl::daemon {

class CrlLoader {
 public:
  explicit CrlLoader(App& app);
  ~CrlLoader();  // stops

  void Start();
  void Stop();
  // `issuer`'s CRL changed in the database (empty: every issuer's).
  void Reload(const std::string& issuer);
  // Passes that re-checked at least one CRL (for tests and logs).
  int64_t passes() const { return passes_; }

 private:
  std::chrono::milliseconds Step();

  App& app_;
  SchedulerThread thread_;
  std::atomic<int64_t> passes_{0};
};

}  // namespace certctl::daemon
