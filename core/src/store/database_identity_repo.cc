// DatabaseIdentityRepo (store/database_identity_repo.h).
#include "store/database_identity_repo.h"

#include "store/pg.h"

namespace certctl {

Result<DatabaseIdentity> DatabaseIdentityRepo::Current(Transaction& tx) {
  return GuardResult<DatabaseIdentity>(
      "read the database identity", [&]() -> Result<DatabaseIdentity> {
        auto r = tx.Exec("database_identity_current",
                         "SELECT database_id, bound_to = certctl_physical_database() "
                         "FROM database_identity WHERE id = 1 FOR UPDATE");
        DatabaseIdentity out;
        if (!r.empty() && r[0][1].as<bool>()) {
          out.id = r[0][0].as<std::string>();
          return out;
        }
        if (!r.empty()) out.replaced = r[0][0].as<std::string>();
        auto made = tx.Exec(
            "database_identity_replace",
            "INSERT INTO database_identity (id, database_id, bound_to, copied_from) "
            "VALUES (1, certctl_new_database_id(), certctl_physical_database(), "
            "NULLIF($1, '')) "
            "ON CONFLICT (id) DO UPDATE SET database_id = EXCLUDED.database_id, "
            "bound_to = EXCLUDED.bound_to, copied_from = EXCLUDED.copied_from, "
            "created_at = now() RETURNING database_id",
            out.replaced.value_or(""));
        out.id = made[0][0].as<std::string>();
        return out;
      });
}

Result<std::optional<DatabaseIdentityRepo::Stored>> DatabaseIdentityRepo::Peek(
    Transaction& tx) {
  return GuardValue<std::optional<Stored>>("read the database identity", [&] {
    auto r = tx.Exec("database_identity_peek",
                     "SELECT database_id, bound_to = certctl_physical_database() "
                     "FROM database_identity WHERE id = 1");
    std::optional<Stored> out;
    if (!r.empty()) out = Stored{r[0][0].as<std::string>(), r[0][1].as<bool>()};
    return out;
  });
}

}  // namespace certctl
