// Cache procedures: truncating the CRL and OCSP caches, and checking the OCSP
// response cache against the revocation records.
//
// CONTRACT (implemented in core/src/ops/cache_ops.cc; JSON in cache_json.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "certctl/ops/op.h"

namespace certctl::ops {

struct TruncateScope {
  bool crl = false;
  bool ocsp = false;
  std::string issuer;  // empty: every issuer
  std::string serial;  // OCSP only; empty: every serial
};

// Cache rows matching a truncation's scope.
struct CacheRowCounts {
  int64_t crl_rows = 0;   // crl_cache
  int64_t ocsp_rows = 0;  // ocsp_response_cache
};

struct CachesTruncated {
  int64_t crl_rows_deleted = 0;          // 0 in a dry run
  int64_t ocsp_rows_deleted = 0;         // 0 in a dry run
  std::optional<CacheRowCounts> before;  // counted first
  std::optional<CacheRowCounts> after;   // counted again; absent in a dry run
};

// `cache truncate`: counts (report.plan / before), then deletes, and
// NOTIFYs running daemons so their in-memory caches drop the same entries.
// Audited, locked (CrlLockName / OcspCacheLockName per issuer touched, or a
// global "cache:*" lock when no issuer is given), dry-run aware.
// Neither crl nor ocsp, or a serial without ocsp, is InvalidArgument;
// a malformed serial InvalidArgument; an unknown issuer NotFound. The serial
// is taken in any spelling Serial::Parse accepts. Dry run: counts and plan
// only, nothing deleted.
Result<CachesTruncated> TruncateCaches(OpContext& ctx, const TruncateScope& scope,
                                       OpReport& report);

// ocsp_response_cache rows around `cache verify --fix`.
struct OcspCacheRows {
  int64_t ocsp_rows = 0;
  std::optional<int64_t> bad;  // before: how many of them are bad
};

struct OcspCacheVerified {
  int64_t scanned = 0;                  // cached answers examined
  int64_t bad = 0;                      // found wrong or stale (one finding each)
  int64_t fixed = 0;                    // deleted (with fix, not in a dry run)
  std::optional<OcspCacheRows> before;  // {scanned, bad}
  std::optional<OcspCacheRows> after;   // after deleting; absent when nothing was
};

// `cache verify`: scans ocsp_response_cache for answers that disagree with
// certificate_revocations ("cache.stale_good", "cache.stale_revoked"), are past
// nextUpdate ("cache.expired"), are signed by a responder that is no longer
// current ("cache.old_responder"), or do not parse ("cache.corrupt"). Each
// is an error finding, or with `fix` a warning (the outcome is then the
// fix's: a dry run and a real run end alike), and `fix` deletes them
// (audited, locked) after reporting them. Also "cache.stale_unknown" (an "unknown" answer
// cached for a certificate the database has). One finding per bad row, subject
// "<issuer>/<serial> (<hash>)". Locks "cache:*" when fixing; a row re-signed
// since the scan is left alone. Dry run with fix: findings and plan, nothing
// deleted.
// `audit` false is for certctld's periodic upkeep, whose log line is its
// record (like the CRL scheduler's); every command audits.
Result<OcspCacheVerified> VerifyOcspCache(OpContext& ctx, bool fix, OpReport& report,
                                          bool audit = true);

}  // namespace certctl::ops
