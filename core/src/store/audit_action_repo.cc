#include "store/audit_action_repo.h"

#include "store/pg.h"

namespace certctl {

Result<std::vector<std::string>> AuditActionRepo::Distinct(Transaction& tx) {
  return GuardValue<std::vector<std::string>>("list audit actions", [&] {
    std::vector<std::string> out;
    for (const auto& row : tx.Exec(
             "audit_actions",
             "WITH RECURSIVE a AS ("
             "  (SELECT action FROM audit_events ORDER BY action LIMIT 1)"
             "  UNION ALL"
             "  SELECT (SELECT e.action FROM audit_events e WHERE e.action > a.action "
             "          ORDER BY e.action LIMIT 1) FROM a WHERE a.action IS NOT NULL"
             ") SELECT action FROM a WHERE action IS NOT NULL")) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

}  // namespace certctl
