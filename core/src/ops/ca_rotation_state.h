// Private to core/src/ops: whether an issuer has an unfinished CA rotation,
// the question every `ca` command asks before it reports (issue 10).
//
// HOOK FOR `ca rotate`: the rotation journal (its migration 0006 and
// repository) is written on the branch that adds `ca rotate`. This function
// is the one place `ca status` and `ca backup` ask; that branch replaces its
// body in ca_rotation_state.cc with a read of the journal (the newest
// rotation of `issuer` that is neither finished nor aborted) and may add
// fields to UnfinishedRotation (certctl/ops/ca_status.h, rendered by
// ca_json.cc). Until the journal exists no rotation can be under way, so it
// answers "none".
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
