// JSON of `ca rotate`'s result (see op_json.h): the "data" of
// `certctl-admin ca rotate -o json`.
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/ca_rotate.h"

namespace certctl::ops {

// {name, state, attempts, begun_at|null, done_at|null, detail}.
nlohmann::json ToJson(const RotationStepState& step);
// {files, rows, daemons}.
nlohmann::json ToJson(const RotationPlan& plan);
// {issuer, rotation, mode, state, from_generation, to_generation,
//  old_fingerprint, new_fingerprint, key_path, cert_path, csr_path,
//  backup_path, steps, test_serials, next, plan|null}.
nlohmann::json ToJson(const CaRotation& rotation);

}  // namespace certctl::ops
