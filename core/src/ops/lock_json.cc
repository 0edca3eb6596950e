#include "certctl/ops/lock_json.h"

#include "certctl/util/time_format.h"

namespace certctl::ops {

nlohmann::json ToJson(const OperationLockState& l) {
  return {{"name", l.name},
          {"holder", l.holder},
          {"host", l.host},
          {"pid", l.pid},
          {"backend_pid", l.backend_pid},
          {"since", l.since ? nlohmann::json(FormatRfc3339(*l.since)) : nlohmann::json()},
          {"state", HolderStateName(l.state)},
          {"state_reason", l.state_reason}};
}

nlohmann::json ToJson(const OperationLocks& locks) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& l : locks.locks) list.push_back(ToJson(l));
  return {{"host", locks.host}, {"locks", list}};
}

nlohmann::json ToJson(const OperationLockReleased& r) {
  return {{"lock", ToJson(r.lock)}, {"released", r.released}};
}

}  // namespace certctl::ops
