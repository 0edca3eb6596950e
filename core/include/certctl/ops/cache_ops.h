// Cache procedures: truncating the CRL and OCSP caches, and checking the OCSP
// response cache against the revocation records.
//
// CONTRACT (implemented in core/src/ops/cache_ops.cc).
#pragma once

#include <string>

#include "certctl/ops/op.h"

namespace certctl::ops {

struct TruncateScope {
  bool crl = false;
  bool ocsp = false;
  std::string issuer;  // empty: every issuer
  std::string serial;  // OCSP only; empty: every serial
};

// `cache truncate`: counts (report.plan / report.before), then deletes, and
// NOTIFYs running daemons so their in-memory caches drop the same entries.
// Audited, locked (CrlLockName / OcspCacheLockName per issuer touched, or a
// global "cache:*" lock when no issuer is given), dry-run aware.
// report.before / report.after: {"crl_rows", "ocsp_rows"} matching the
// scope. Neither crl nor ocsp, or a serial without ocsp, is InvalidArgument;
// a malformed serial InvalidArgument; an unknown issuer NotFound. The serial
// is taken in any spelling Serial::Parse accepts. Dry run: counts and plan
// only, data is all zeros.
// report.data: {"crl_rows_deleted", "ocsp_rows_deleted"}.
Status TruncateCaches(OpContext& ctx, const TruncateScope& scope, OpReport& report);

// `cache verify`: scans ocsp_response_cache for answers that disagree with
// certificate_revocations ("cache.stale_good", "cache.stale_revoked"), are past
// nextUpdate ("cache.expired"), are signed by a responder that is no longer
// current ("cache.old_responder"), or do not parse ("cache.corrupt"). Each
// is an error finding. With `fix`, deletes them (audited, locked) after
// reporting them. Also "cache.stale_unknown" (an "unknown" answer cached
// for a certificate the database has). One finding per bad row, subject
// "<issuer>/<serial> (<hash>)". Locks "cache:*" when fixing; a row re-signed
// since the scan is left alone. Dry run with fix: findings and plan, nothing
// deleted. report.data: {"scanned", "bad", "fixed"}.
// `audit` false is for certctld's periodic upkeep, whose log line is its
// record (like the CRL scheduler's); every command audits.
Status VerifyOcspCache(OpContext& ctx, bool fix, OpReport& report, bool audit = true);

}  // namespace certctl::ops
