// JSON of `db restore-check` (see op_json.h).
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/restore_check.h"

namespace certctl::ops {

// {verdict, reasons, source, format, scratch_database, scratch_server, kept,
//  scratch_dir, dump_schema_version, schema_version, migrations_applied,
//  missing_tables, extra_tables, tables: [{name, rows, live_rows}],
//  foreign_key_violations, audit: {rows, intact} | null,
//  key_files: [{role, subject, path, ok, problem}], encryption_key,
//  revocations_after_backup: [{issuer, generation, serial, reason,
//  reason_code, revoked_at, seen_in}], reused_crl_numbers: [{issuer,
//  generation, dump_highest, live_highest, seen_in}],
//  phases: [{name, outcome, duration_ms}]}.
nlohmann::json ToJson(const RestoreCheck& check);

}  // namespace certctl::ops
