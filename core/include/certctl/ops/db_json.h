// JSON of the database procedures' results (see op_json.h).
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/db_ops.h"

namespace certctl::ops {

// {version, name, checksum, applied_at (only when applied)}.
nlohmann::json ToJson(const MigrationInfo& migration);
nlohmann::json ToJson(const SchemaVersion& version);  // {version}
// {from_version, to_version, applied: [...]}.
nlohmann::json ToJson(const DatabaseMigrated& result);
// {current_version, latest_version, applied, pending}; {} when not known.
nlohmann::json ToJson(const SchemaStatus& status);

}  // namespace certctl::ops
