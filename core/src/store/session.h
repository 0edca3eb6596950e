// A leased connection of the Database pool (certctl/store/database.h), kept
// for several transactions: needed for session state such as advisory locks
// (OperationLock) or LISTEN. Private to core/src/store.
#pragma once

#include <functional>
#include <memory>

#include "certctl/store/database.h"

namespace certctl {

// Returned to the pool on destruction, with every advisory lock it still
// holds released.
class Session {
 public:
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs `fn` in a READ COMMITTED transaction on this connection; commits when
  // fn returns OK, rolls back otherwise.
  Status Run(const std::function<Status(Transaction&)>& fn);

  // Implementation access for core/src/store.
  PooledConnection& connection() { return *conn_; }

 private:
  friend class Database;
  Session(class Database* db, std::unique_ptr<PooledConnection> conn);
  class Database* db_;
  std::unique_ptr<PooledConnection> conn_;
};

}  // namespace certctl
