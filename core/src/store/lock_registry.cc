#include "store/lock_registry.h"

#include "store/pg.h"

namespace certctl {
namespace {

// A granted advisory lock of this database whose key is that of `name_sql`.
std::string HeldLockCondition(const std::string& name_sql) {
  std::string key = LockKeySql(name_sql);
  return "l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
         "AND l.database = (SELECT oid FROM pg_database WHERE datname = "
         "current_database()) "
         "AND l.classid::bigint = (" +
         key + " >> 32) & 4294967295 AND l.objid::bigint = " + key + " & 4294967295";
}

}  // namespace

std::string LockKeySql(const std::string& name_sql) {
  return "hashtextextended('certctl:lock:' || " + name_sql + ", 0)";
}

Result<std::vector<HeldLock>> LockRegistry::ListHeld(Database& db) {
  return db.Query<std::vector<HeldLock>>([&](Transaction& tx) {
    return GuardValue<std::vector<HeldLock>>("list held locks", [&] {
      static const std::string sql =
          "SELECT o.name, o.holder, o.host, o.pid, l.pid, "
          "extract(epoch from o.acquired_at), coalesce(a.application_name, '') "
          "FROM operation_locks o JOIN pg_locks l ON l.pid = o.backend_pid AND " +
          HeldLockCondition("o.name") +
          " LEFT JOIN pg_stat_activity a ON a.pid = l.pid ORDER BY o.name";
      std::vector<HeldLock> out;
      for (const auto& row : tx.Exec("locks_held", sql.c_str())) {
        HeldLock h;
        h.name = row[0].as<std::string>();
        h.holder.holder = row[1].as<std::string>();
        h.holder.host = row[2].as<std::string>();
        h.holder.pid = row[3].as<int>();
        h.holder.backend_pid = row[4].as<int>();
        h.holder.since = TimeFrom(row[5]);
        h.application = row[6].as<std::string>();
        out.push_back(std::move(h));
      }
      return out;
    });
  });
}

Result<bool> LockRegistry::EndHoldingSession(Database& db, const std::string& name,
                                             int backend_pid) {
  return db.Query<bool>([&](Transaction& tx) {
    return GuardValue<bool>("end the session holding lock " + name, [&] {
      static const std::string sql =
          "SELECT pg_terminate_backend(l.pid) FROM pg_locks l WHERE l.pid = $2 AND " +
          HeldLockCondition("$1");
      auto r = tx.Exec("locks_end_holder", sql.c_str(), name, backend_pid);
      return !r.empty() && r[0][0].as<bool>();
    });
  });
}

}  // namespace certctl
