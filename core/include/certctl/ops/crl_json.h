// JSON of the CRL procedures' results (see op_json.h): the "data" of
// `certctl-admin crl status|regenerate|verify -o json`.
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/crl_ops.h"

namespace certctl::ops {

// {generation, crl_number, size, revoked_count, this_update, next_update,
//  duration_ms}.
nlohmann::json ToJson(const CrlRegenerated& crl);
nlohmann::json ToJson(const PlannedCrl& crl);  // {generation, crl_number, revoked_count}
// {issuer, crls: [...]}, and planned: [...] in a dry run.
nlohmann::json ToJson(const CrlRegeneration& result);
nlohmann::json ToJson(const CachedCrlCount& count);  // {cached_crls}
// {issuer, rows_deleted, rows_to_delete, next_fetch}.
nlohmann::json ToJson(const CrlCacheInvalidated& result);
// {size, crl_number, this_update, next_update, generated_at, duration_ms,
//  revoked_count}.
nlohmann::json ToJson(const CachedCrlSummary& cache);
// {started_at, succeeded, error|null, duration_ms, revoked_count|null,
//  crl_number|null, crl_size|null, trigger, runner}.
nlohmann::json ToJson(const CrlGenerationAttempt& event);
// {issuers: [{issuer, generations: [{generation, state, verdict, detail,
//  cache|null, database_revoked_count, events}]}]}.
nlohmann::json ToJson(const CrlStatus& status);
// {issuer, url, size}, once parsed {crl_number|null, this_update,
// next_update|null, entries}, once matched {generation}, once verified
// {database_revoked_count, missing_serials, missing_count, extra_serials,
// extra_count}. (url only when known.)
nlohmann::json ToJson(const FetchedCrlVerified& result);

}  // namespace certctl::ops
