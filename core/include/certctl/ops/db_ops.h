// Database procedures: schema migrations and schema status.
#pragma once

#include "certctl/ops/op.h"

namespace certctl::ops {

// Applies pending migrations (see store/migrator.h). Audited once the audit
// table exists (a fresh database has none before its first migration).
// report.data: from_version, to_version, applied[] {version, name, checksum}.
Status MigrateDatabase(OpContext& ctx, OpReport& report);

// report.data: current_version, latest_version, applied[], pending[]; an
// "error" finding "schema.behind" when migrations are pending.
Status DescribeSchema(OpContext& ctx, OpReport& report);

}  // namespace certctl::ops
