// PostgreSQL access: a bounded connection pool and transactions.
//
// The one public header of the store: both programs open a Database and hand
// it to operations (certctl/ops/op.h). Everything else of the store (the
// repositories, records, locks, migrations, LISTEN/NOTIFY) is private to
// core, under core/src/store; Transaction and Session are opaque here, so a
// front end cannot do anything with a transaction but pass it on.
//
// libpqxx is an implementation detail of core/src/store; nothing outside it
// sees a pqxx type or exception. Every failure comes back as a Status:
// Unavailable when the server cannot be reached, AlreadyExists for a
// uniqueness conflict, Busy for lock timeouts and serialization failures,
// Internal for anything unexpected.
//
// Thread safety: Database is thread-safe. A Session or Transaction belongs to
// one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "certctl/util/status.h"

namespace certctl {

struct DatabaseOptions {
  std::string url;                                  // libpq URL or key=value conninfo
  int pool_size = 8;                                // maximum open connections
  std::string application_name = "certctl";         // shown in pg_stat_activity
  std::chrono::milliseconds acquire_timeout{5000};  // wait for a free connection
  std::chrono::seconds connect_timeout{5};
  // false: Open connects once to prove the server is reachable. true: Open
  // only checks the options; the first use connects (and fails Unavailable
  // then), for work that may not need the database at all.
  bool connect_lazily = false;
};

// `url` with libpq's connect_timeout set to `timeout` (whole seconds, at
// least 2, as libpq wants), unless the URL names one itself: a URI gets a
// query parameter, a key=value string one more pair. (Setting
// PGCONNECT_TIMEOUT instead would race with libpq's getenv on pool threads.)
std::string ConninfoWithConnectTimeout(const std::string& url,
                                       std::chrono::seconds timeout);

// What libpq tries for a connection string: each key as given, else as the
// PG* environment or libpq's default says. Never holds the password.
struct ConnectionTarget {
  std::string host;  // a name, an address, or a socket directory ("/..."); "" default
  std::string port;
  std::string dbname;
  std::string user;
  // "socket /run/pg/.s.PGSQL.5432, database certctl, user certctl", or
  // "host db.internal port 5432, ...".
  std::string Describe() const;
};
// InvalidArgument (libpq's reason) when `url` does not parse.
Result<ConnectionTarget> ParseConnectionTarget(const std::string& url);

class Transaction;  // opaque; repositories in core/src/store use it
class PooledConnection;

struct PoolStats {
  int open = 0;     // connections currently open
  int in_use = 0;   // leased out
  int max = 0;      // pool_size
  int waiting = 0;  // callers waiting for a connection
};

// A leased connection kept for several transactions (core/src/store/session.h).
class Session;

class Database {
 public:
  // Opens the pool and one connection to prove the server is reachable:
  // Unavailable when it is not, naming what was tried (ConnectionTarget) and
  // libpq's reason.
  // With options.connect_lazily, no connection yet.
  static Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options);
  ~Database();

  // Runs `fn` in a READ COMMITTED transaction; see Session::Run. A connection
  // found broken before `fn` started is replaced and the transaction retried once.
  Status Run(const std::function<Status(Transaction&)>& fn);

  // Runs `fn` on a pooled connection outside a transaction block: each
  // statement is its own transaction (autocommit), with no BEGIN or COMMIT
  // round trips. Meant for one statement (a hot read, a batched write);
  // several statements would not see one snapshot. Retried once on a broken
  // connection as Run is.
  Status RunStatement(const std::function<Status(Transaction&)>& fn);

  // Convenience for read paths that return a value.
  template <typename T>
  Result<T> Query(const std::function<Result<T>(Transaction&)>& fn) {
    std::optional<Result<T>> out;
    Status s = Run([&](Transaction& tx) -> Status {
      out.emplace(fn(tx));
      return out->status();
    });
    if (!s.ok()) return s;
    return std::move(*out);
  }

  // A connection of the pool for several transactions (advisory locks,
  // LISTEN); for core/src/store (store/session.h).
  Result<std::unique_ptr<Session>> AcquireSession();

  // SELECT 1 on a pooled connection.
  Status Ping();

  PoolStats Stats() const;
  const DatabaseOptions& options() const { return options_; }
  std::string MaskedUrl() const;

 private:
  friend class Session;
  // Returns a connection to the pool (Session's destructor).
  void Release(std::unique_ptr<PooledConnection> conn);
  explicit Database(DatabaseOptions options);
  Result<std::unique_ptr<PooledConnection>> Acquire();
  template <typename Tx>
  Status RunWith(const std::function<Status(Transaction&)>& fn);
  Result<std::unique_ptr<PooledConnection>> Connect();

  struct Pool;
  DatabaseOptions options_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace certctl
