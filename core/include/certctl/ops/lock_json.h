// JSON of the lock procedures' results (see op_json.h): the "data" of
// `certctl-admin locks list|release -o json`.
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/lock_ops.h"

namespace certctl::ops {

// {name, holder, host, pid, backend_pid, since, state, state_reason}
nlohmann::json ToJson(const OperationLockState& lock);
nlohmann::json ToJson(const OperationLocks& locks);     // {host, locks: [...]}
nlohmann::json ToJson(const OperationLockReleased& r);  // {lock, released}

}  // namespace certctl::ops
