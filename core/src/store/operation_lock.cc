#include "store/operation_lock.h"

#include <unistd.h>

#include <thread>

#include "certctl/util/process.h"
#include "certctl/util/time_format.h"
#include "store/lock_registry.h"
#include "store/pg.h"

namespace certctl {
namespace {

const std::string kKeySql = LockKeySql("$1");

Result<bool> TryLock(Session& session, const std::string& name, const LockOwner& owner) {
  bool got = false;
  RETURN_IF_ERROR(session.Run([&](Transaction& tx) -> Status {
    return Guard("take lock " + name, [&] {
      static const std::string sql = "SELECT pg_try_advisory_lock(" + kKeySql + ")";
      got = tx.Exec("lock_try", sql.c_str(), name)[0][0].as<bool>();
      if (got) {
        tx.Exec("lock_record",
                "INSERT INTO operation_locks (name, holder, host, pid, backend_pid, "
                "acquired_at) "
                "VALUES ($1, $2, $3, $4, pg_backend_pid(), now()) ON CONFLICT (name) DO "
                "UPDATE "
                "SET holder = EXCLUDED.holder, host = EXCLUDED.host, pid = EXCLUDED.pid, "
                "backend_pid = EXCLUDED.backend_pid, acquired_at = EXCLUDED.acquired_at",
                name, owner.holder, owner.host, owner.pid);
      }
      return Status::Ok();
    });
  }));
  return got;
}

}  // namespace

std::string LockHolder::Describe() const {
  std::string out = holder.empty() ? "an unknown session" : holder;
  out += " (";
  if (pid) out += "pid " + std::to_string(pid) + " ";
  out += "on " + (host.empty() ? std::string("unknown host") : host);
  out += ", database backend " + std::to_string(backend_pid);
  if (since) out += ", since " + FormatRfc3339(*since);
  out += ")";
  return out;
}

LockOwner ThisProcess(const std::string& holder) {
  return LockOwner{holder, HostName(), static_cast<int>(::getpid())};
}

Result<std::unique_ptr<OperationLock>> OperationLock::TryAcquire(Database& db,
                                                                 const std::string& name,
                                                                 const LockOwner& owner) {
  ASSIGN_OR_RETURN(auto session, db.AcquireSession());
  ASSIGN_OR_RETURN(bool got, TryLock(*session, name, owner));
  if (!got) return std::unique_ptr<OperationLock>();
  return std::unique_ptr<OperationLock>(new OperationLock(name, std::move(session)));
}

Result<std::unique_ptr<OperationLock>> OperationLock::Acquire(
    Database& db, const std::string& name, const LockOwner& owner,
    std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  ASSIGN_OR_RETURN(auto session, db.AcquireSession());
  for (;;) {
    ASSIGN_OR_RETURN(bool got, TryLock(*session, name, owner));
    if (got)
      return std::unique_ptr<OperationLock>(new OperationLock(name, std::move(session)));
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  session.reset();
  ASSIGN_OR_RETURN(auto holder, FindHolder(db, name));
  std::string who = holder ? holder->Describe() : "another session (it has just let go)";
  return Status::Busy("lock " + name + " is held by " + who);
}

Result<std::optional<LockHolder>> OperationLock::FindHolder(Database& db,
                                                            const std::string& name) {
  return db.Query<std::optional<LockHolder>>([&](Transaction& tx) {
    return GuardValue<std::optional<LockHolder>>("find lock holder", [&] {
      static const std::string sql =
          "WITH k AS (SELECT " + kKeySql +
          " AS key) "
          "SELECT l.pid, a.application_name, coalesce(a.client_hostname, "
          "host(a.client_addr), "
          "'local'), o.holder, o.host, o.pid, extract(epoch from o.acquired_at) "
          "FROM k, pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
          "LEFT JOIN operation_locks o ON o.name = $1 AND o.backend_pid = l.pid "
          "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
          "AND l.classid::bigint = (k.key >> 32) & 4294967295 "
          "AND l.objid::bigint = k.key & 4294967295";
      auto r = tx.Exec("lock_holder", sql.c_str(), name);
      if (r.empty()) return std::optional<LockHolder>();
      LockHolder h;
      h.backend_pid = r[0][0].as<int>();
      if (!r[0][3].is_null()) {
        h.holder = r[0][3].as<std::string>();
        h.host = r[0][4].as<std::string>();
        h.pid = r[0][5].as<int>();
        h.since = TimeFrom(r[0][6]);
      } else {
        h.holder = r[0][1].is_null() ? "" : r[0][1].as<std::string>();
        h.host = r[0][2].is_null() ? "" : r[0][2].as<std::string>();
      }
      return std::optional<LockHolder>(h);
    });
  });
}

OperationLock::~OperationLock() = default;  // Session's destructor unlocks

}  // namespace certctl
