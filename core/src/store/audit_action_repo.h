// The actions the audit log holds, for completing `audit list --action`.
// Private to core/src.
#pragma once

#include <string>
#include <vector>

#include "certctl/store/database.h"

namespace certctl {

class AuditActionRepo {
 public:
  // Every distinct action, sorted; one index probe per action (a skip scan
  // over audit_events_action), not a pass over the log.
  static Result<std::vector<std::string>> Distinct(Transaction& tx);
};

}  // namespace certctl
