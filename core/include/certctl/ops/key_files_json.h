// JSON of the key file procedures' results (see op_json.h): the "data" of
// `certctl-admin ocsp prune-backups -o json`.
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/key_files.h"

namespace certctl::ops {

nlohmann::json ToJson(const KeyBackup& backup);  // {path, retired_at}
// {directory, retention, removed: [...], kept: [...], named: [paths]}
nlohmann::json ToJson(const KeyBackupsPruned& result);

}  // namespace certctl::ops
