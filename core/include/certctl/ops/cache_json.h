// JSON of the cache procedures' results (see op_json.h): the "data",
// "before" and "after" of `certctl-admin cache truncate|verify -o json`.
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/cache_ops.h"

namespace certctl::ops {

nlohmann::json ToJson(const CacheRowCounts& counts);  // {crl_rows, ocsp_rows}
nlohmann::json ToJson(
    const CachesTruncated& result);  // {crl_rows_deleted, ocsp_rows_deleted}
nlohmann::json ToJson(const OcspCacheRows& rows);        // {ocsp_rows, bad (when known)}
nlohmann::json ToJson(const OcspCacheVerified& result);  // {scanned, bad, fixed}

}  // namespace certctl::ops
