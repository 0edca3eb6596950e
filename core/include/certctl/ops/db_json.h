// JSON of the database procedures' results (see op_json.h).
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/db_ops.h"
#include "certctl/ops/post_restore.h"

namespace certctl::ops {

// {version, name, checksum, applied_at (only when applied)}.
nlohmann::json ToJson(const MigrationInfo& migration);
nlohmann::json ToJson(const SchemaVersion& version);  // {version}
// {from_version, to_version, applied: [...]}.
nlohmann::json ToJson(const DatabaseMigrated& result);
// {current_version, latest_version, applied, pending}; {} when not known.
nlohmann::json ToJson(const SchemaStatus& status);
// {issuer, generation, serial, reason, revoked_at, source}.
nlohmann::json ToJson(const ProvenRevocation& revocation);
// {migrated, published: [{source, issuer, generation, number, entries,
// this_update}], reapplied, unknown_certificates, crl_numbers: [{issuer,
// generation, counter, published, next, moved}], crl_cache_rows_deleted,
// ocsp_cache_rows_deleted, regenerated, checks: [{issuer, generation, number,
// entries, highest_published, missing_serials, ok}]}.
nlohmann::json ToJson(const DatabasePostRestore& result);

}  // namespace certctl::ops
