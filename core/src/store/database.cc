#include "certctl/store/database.h"

#include <libpq-fe.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>

#include "certctl/config/config.h"
#include "store/pg.h"
#include "store/session.h"

namespace certctl {

Status StatusFromCurrentException(std::string_view what) {
  std::string ctx(what);
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return Status::Unavailable(ctx + ": database connection lost: " + e.what());
  } catch (const pqxx::sql_error& e) {
    std::string state = e.sqlstate();
    std::string msg = ctx + ": " + e.what();
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    if (state == "23505") return Status::AlreadyExists(msg);
    if (state == "23503") return Status::FailedPrecondition(msg);
    // 22021: a byte sequence that is not valid in the database encoding.
    if (state == "23514" || state == "22P02" || state == "22001" || state == "22021") {
      return Status::InvalidArgument(msg);
    }
    if (state == "40001" || state == "40P01" || state == "55P03")
      return Status::Busy(msg);
    if (state == "57014") return Status::DeadlineExceeded(msg);
    if (state == "42501") return Status::PermissionDenied(msg);
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" ||
        state == "57P03") {
      return Status::Unavailable(msg);
    }
    return Status::Internal(msg + " (SQLSTATE " + state + ")");
  } catch (const NulInTextParameter& e) {
    return Status::InvalidArgument(ctx + ": " + e.what());
  } catch (const pqxx::in_doubt_error& e) {
    return Status::Unavailable(ctx +
                               ": commit outcome unknown, connection lost: " + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(ctx + ": " + e.what());
  } catch (...) {
    return Status::Internal(ctx + ": unknown exception");
  }
}

struct Database::Pool {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<PooledConnection>> idle;
  int open = 0;
  int in_use = 0;
  int waiting = 0;
};

Database::Database(DatabaseOptions options)
    : options_(std::move(options)), pool_(std::make_unique<Pool>()) {}

Database::~Database() = default;

std::string Database::MaskedUrl() const { return MaskDatabaseUrl(options_.url); }

Result<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  if (options.url.empty()) {
    return Status::Configuration(
        "no database configured: set CERTCTL_DATABASE_URL or "
        "database_url in the config file");
  }
  if (options.pool_size < 1)
    return Status::Configuration("database pool size must be >= 1");
  std::unique_ptr<Database> db(new Database(options));
  if (options.connect_lazily) return db;
  ASSIGN_OR_RETURN(auto conn, db->Connect());
  {
    std::lock_guard lock(db->pool_->mu);
    db->pool_->open = 1;
    db->pool_->idle.push_back(std::move(conn));
  }
  return db;
}

namespace {

// libpq's value of `keyword` in an option array, "" when unset.
std::string OptionValue(const PQconninfoOption* options, std::string_view keyword) {
  for (const PQconninfoOption* o = options; o && o->keyword; ++o) {
    if (keyword == o->keyword) return o->val ? o->val : "";
  }
  return "";
}

}  // namespace

Result<ConnectionTarget> ParseConnectionTarget(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* given = PQconninfoParse(url.c_str(), &error);
  if (!given) {
    std::string why = error ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Status::InvalidArgument("database URL does not parse: " + why);
  }
  PQconninfoOption* defaults = PQconndefaults();  // the PG* environment applied
  auto value = [&](std::string_view keyword) {
    std::string v = OptionValue(given, keyword);
    return v.empty() ? OptionValue(defaults, keyword) : v;
  };
  ConnectionTarget t{value("host"), value("port"), value("dbname"), value("user")};
  if (t.host.empty()) t.host = value("hostaddr");
  PQconninfoFree(given);
  PQconninfoFree(defaults);
  if (t.port.empty()) t.port = "5432";
  if (t.dbname.empty()) t.dbname = t.user;
  return t;
}

std::string ConnectionTarget::Describe() const {
  std::string where;
  if (host.empty()) {
    where = "libpq's default socket directory, port " + port;
  } else if (host[0] == '/' || host[0] == '@') {
    where = "socket " + host + "/.s.PGSQL." + port;
  } else {
    where = "host " + host + " port " + port;
  }
  return where + ", database " + (dbname.empty() ? "?" : dbname) + ", user " +
         (user.empty() ? "?" : user);
}

std::string ConninfoWithConnectTimeout(const std::string& url,
                                       std::chrono::seconds timeout) {
  if (url.find("connect_timeout") != std::string::npos) return url;
  std::string seconds = std::to_string(std::max<int64_t>(2, timeout.count()));
  bool uri = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
  if (!uri) return url + (url.empty() ? "" : " ") + "connect_timeout=" + seconds;
  // A URI's query starts at the first '?'; a fragment is not allowed in one.
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "connect_timeout=" + seconds;
}

Result<std::unique_ptr<PooledConnection>> Database::Connect() {
  try {
    auto conn = std::make_unique<PooledConnection>(
        ConninfoWithConnectTimeout(options_.url, options_.connect_timeout));
    // A broken connection is replaced by the pool, never silently reconnected:
    // session state (advisory locks, LISTEN) must not vanish unnoticed.
    conn->conn.inhibit_reactivation(true);
    pqxx::nontransaction tx(conn->conn);
    tx.exec_params("SELECT set_config('application_name', $1, false)",
                   options_.application_name);
    return conn;
  } catch (const pqxx::broken_connection& e) {
    std::string why = e.what();
    while (!why.empty() && why.back() == '\n') why.pop_back();
    auto target = ParseConnectionTarget(options_.url);
    std::string tried = target.ok() ? target->Describe() : MaskedUrl();
    return Status::Unavailable("cannot connect to PostgreSQL at " + tried + ": " + why);
  } catch (...) {
    return StatusFromCurrentException("connect to database " + MaskedUrl());
  }
}

Result<std::unique_ptr<PooledConnection>> Database::Acquire() {
  Pool& p = *pool_;
  std::unique_lock lock(p.mu);
  auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  for (;;) {
    if (!p.idle.empty()) {
      auto conn = std::move(p.idle.front());
      p.idle.pop_front();
      ++p.in_use;
      return conn;
    }
    if (p.open < options_.pool_size) {
      ++p.open;
      ++p.in_use;
      lock.unlock();
      auto conn = Connect();
      if (!conn.ok()) {
        lock.lock();
        --p.open;
        --p.in_use;
        p.cv.notify_one();
      }
      return conn;
    }
    ++p.waiting;
    bool timed_out = p.cv.wait_until(lock, deadline) == std::cv_status::timeout;
    --p.waiting;
    if (timed_out && p.idle.empty() && p.open >= options_.pool_size) {
      return Status::Unavailable("database connection pool exhausted: all " +
                                 std::to_string(options_.pool_size) +
                                 " connections in use");
    }
  }
}

void Database::Release(std::unique_ptr<PooledConnection> conn) {
  Pool& p = *pool_;
  bool keep = conn && !conn->broken && conn->conn.is_open();
  if (!keep) conn.reset();  // close outside the lock
  std::deque<std::unique_ptr<PooledConnection>> stale;
  {
    std::lock_guard lock(p.mu);
    --p.in_use;
    if (keep) {
      p.idle.push_back(std::move(conn));
    } else {
      --p.open;
      // One broken connection usually means the server went away (restart,
      // failover): the idle ones are dead too, so drop them now instead of
      // failing one request per dead connection later.
      stale.swap(p.idle);
      p.open -= static_cast<int>(stale.size());
    }
    p.cv.notify_all();
  }
}

namespace {

// Runs fn in a transaction on `c` (a pqxx::work; a pqxx::nontransaction,
// autocommit, for RunStatement). Sets `started` once fn has been called, so a
// caller can tell whether a retry is safe.
template <typename Tx = pqxx::work>
Status RunOn(PooledConnection& c, const std::function<Status(Transaction&)>& fn,
             bool& started) {
  started = false;
  try {
    Tx w(c.conn);
    Transaction tx(c, w);
    started = true;
    Status s = fn(tx);
    if (s.ok()) {
      w.commit();
    } else {
      w.abort();
    }
    return s;
  } catch (const pqxx::broken_connection&) {
    c.broken = true;
    return StatusFromCurrentException("database transaction");
  } catch (const pqxx::in_doubt_error&) {
    c.broken = true;
    return StatusFromCurrentException("database commit");
  } catch (...) {
    if (!c.conn.is_open()) c.broken = true;
    return StatusFromCurrentException("database transaction");
  }
}

}  // namespace

template <typename Tx>
Status Database::RunWith(const std::function<Status(Transaction&)>& fn) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    ASSIGN_OR_RETURN(auto conn, Acquire());
    bool started = false;
    Status s = RunOn<Tx>(*conn, fn, started);
    bool retry = conn->broken && !started;
    Release(std::move(conn));
    if (!retry) return s;
  }
  return Status::Unavailable("database connection lost twice in a row");
}

Status Database::Run(const std::function<Status(Transaction&)>& fn) {
  return RunWith<pqxx::work>(fn);
}

Status Database::RunStatement(const std::function<Status(Transaction&)>& fn) {
  return RunWith<pqxx::nontransaction>(fn);
}

Result<std::unique_ptr<Session>> Database::AcquireSession() {
  ASSIGN_OR_RETURN(auto conn, Acquire());
  return std::unique_ptr<Session>(new Session(this, std::move(conn)));
}

Status Database::Ping() {
  return Run([](Transaction& tx) {
    tx.work().exec("SELECT 1");
    return Status::Ok();
  });
}

PoolStats Database::Stats() const {
  std::lock_guard lock(pool_->mu);
  return {pool_->open, pool_->in_use, options_.pool_size, pool_->waiting};
}

Session::Session(Database* db, std::unique_ptr<PooledConnection> conn)
    : db_(db), conn_(std::move(conn)) {}

Session::~Session() {
  if (conn_ && !conn_->broken) {
    try {
      pqxx::nontransaction tx(conn_->conn);
      tx.exec("SELECT pg_advisory_unlock_all()");
    } catch (...) {
      conn_->broken = true;  // drop it; the server frees its locks on disconnect
    }
  }
  db_->Release(std::move(conn_));
}

Status Session::Run(const std::function<Status(Transaction&)>& fn) {
  bool started = false;
  return RunOn(*conn_, fn, started);
}

}  // namespace certctl
