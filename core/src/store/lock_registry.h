// The operation locks held right now (certctl/store/operation_lock.h), as
// operation_locks records them and pg_locks grants them, and ending the
// database session of a holder that is gone so that its lock is released.
//
// Private to core/src: certctl/ops/lock_ops.h is the procedure.
#pragma once

#include <string>
#include <vector>

#include "certctl/store/database.h"
#include "store/operation_lock.h"

namespace certctl {

// The advisory lock key of a lock name, as SQL over `name_sql` (a parameter
// such as "$1" or a column): the one expression every lock statement uses.
std::string LockKeySql(const std::string& name_sql);

struct HeldLock {
  std::string name;
  LockHolder holder;        // as recorded when it was taken
  std::string application;  // the holding session's application_name
};

class LockRegistry {
 public:
  // Every lock of this database that a session holds now, by name.
  static Result<std::vector<HeldLock>> ListHeld(Database& db);

  // Ends database session `backend_pid` (pg_terminate_backend) when it still
  // holds lock `name`; false when it does not (then nothing is done).
  // PermissionDenied when this role may not end that session.
  static Result<bool> EndHoldingSession(Database& db, const std::string& name,
                                        int backend_pid);
};

}  // namespace certctl
