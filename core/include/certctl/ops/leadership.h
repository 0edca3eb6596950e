// Electing one runner for a job across certctld replicas: the replica that
// holds the PostgreSQL session advisory lock named after the job (e.g.
// "scheduler:crl", the same locks as OperationLock) leads; the others try
// again now and then and take over when the leader's connection goes away.
// No home-made consensus: PostgreSQL releases the lock with the session.
//
// Thread safety: one thread at a time (the scheduler's own).
#pragma once

#include <memory>
#include <string>

#include "certctl/store/database.h"

namespace certctl {
class OperationLock;
}  // namespace certctl

namespace certctl::ops {

class Leadership {
 public:
  // `db` must outlive this object. `holder` is recorded with the lock (e.g.
  // "certctld") so that `certctl-admin` can name who leads.
  Leadership(Database& db, std::string lock_name, std::string holder);
  ~Leadership();  // releases the lock if held
  Leadership(const Leadership&) = delete;
  Leadership& operator=(const Leadership&) = delete;

  enum class Change { kNone, kGained, kLost };
  // Leading: checks that the lock's connection still answers (a no-op
  // transaction on it), else drops it (kLost). Not leading: tries to take the
  // lock without waiting (kGained when it got it). Errors reaching the
  // database count as "not leading".
  Change Refresh();
  bool leading() const { return lock_ != nullptr; }
  // Gives the lock up (e.g. when stopping), if held.
  void Release();
  const std::string& lock_name() const { return lock_name_; }

 private:
  Database& db_;
  std::string lock_name_;
  std::string holder_;
  std::unique_ptr<OperationLock> lock_;
};

}  // namespace certctl::ops
