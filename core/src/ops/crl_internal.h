// Private to the CRL procedures (crl_ops.cc, crl_status.cc, crl_service.cc):
// the checks they share.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/ops/crl_ops.h"
#include "certctl/store/database.h"
#include "store/crl_repo.h"

namespace certctl::ops::crl_internal {

// The generations that publish a CRL at `now`: the active one, and retired
// ones that still have unexpired certificates. Oldest first.
Result<std::vector<CaGenerationRecord>> PublishingGenerations(Transaction& tx,
                                                              const std::string& issuer,
                                                              TimePoint now);

// What is wrong with a cached CRL row, if anything.
struct CachedCrlCheck {
  CrlVerdict verdict = CrlVerdict::kOk;  // ok, corrupt, bad_signature or stale
  std::string detail;                    // why, for people; empty when ok
  int64_t entries = 0;                   // entries in the CRL (when it parsed)
  bool ok() const { return verdict == CrlVerdict::kOk; }
};
// Parses the row's DER, checks its CRL number against the row's, its issuer
// and signature against the generation's CA certificate, and that its
// nextUpdate is after `now`.
CachedCrlCheck CheckCachedCrl(const CrlCacheRecord& row, X509* ca_cert, TimePoint now);
// As above with the CA certificate given as the generation record's PEM.
CachedCrlCheck CheckCachedCrl(const CrlCacheRecord& row, const CaGenerationRecord& gen,
                              TimePoint now);

CrlArtifact ArtifactFrom(CrlCacheRecord row);

// RegenerateCrl for a caller that already holds CrlLockName(issuer) (and
// writes its own audit events): the same generations, numbers, events and
// checks, without RunMutation. ctx.dry_run plans only.
Result<CrlRegeneration> RegenerateHoldingLock(OpContext& ctx, const std::string& issuer,
                                              CrlTrigger trigger,
                                              const RegenerateOptions& options,
                                              OpReport& report);

// "host:pid", the crl_generation_events.runner of this process.
std::string Runner();

}  // namespace certctl::ops::crl_internal
