// JSON of the trust procedures' results (see op_json.h). certctld's reload
// endpoint answers with it; RequestTrustReload reads that answer back.
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/trust.h"

namespace certctl::ops {

// {subject, issuer, serial, fingerprint_sha256, not_before, not_after}.
nlohmann::json ToJson(const TrustBundleEntry& entry);
// {path, certificates: [entry], problem|null, message}.
nlohmann::json ToJson(const TrustBundleChecked& result);
// {name, path, reloaded, problem|null, message, certificates, fingerprint,
//  previous_fingerprint}.
nlohmann::json ToJson(const TrustBundleReloaded& bundle);
nlohmann::json ToJson(const TrustReload& result);  // {bundles: [...]}

}  // namespace certctl::ops
