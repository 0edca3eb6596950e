// Private to core/src/ops: whether an issuer has an unfinished CA rotation,
// the question every `ca` command asks before it reports (issue 10).
//
// The journal of `ca rotate` (migration 0006, store/rotation_repo.h) says:
// the issuer's rotation that is running or awaiting its signed certificate.
#pragma once

#include <optional>
#include <string>

#include "certctl/ops/ca_status.h"
#include "certctl/store/database.h"

namespace certctl::ops::internal {

// The unfinished rotation of `issuer`, read in the caller's transaction.
Result<std::optional<UnfinishedRotation>> FindUnfinishedRotation(
    Transaction& tx, const std::string& issuer);

// What to say about it, for findings: "rotation 3 (generate, g1 -> g2) of
// iss-local started 2026-01-02T03:04:05Z by alice stopped after <step>; run
// `certctl-admin ca rotate iss-local --resume` or `--abort`".
std::string DescribeUnfinishedRotation(const std::string& issuer,
                                       const UnfinishedRotation& rotation);

}  // namespace certctl::ops::internal
