// CRL procedures: generation, serving with a verified read-through cache, and
// the operator's checks. certctld's crlGenerationLoop and
// `certctl-admin crl regenerate` call the same RegenerateCrl.
//
// CONTRACT (implemented in core/src/ops/crl_ops.cc and core/src/ops/crl_service.cc):
// - One CRL per CA generation: version 2, Authority Key Identifier, CRL Number
//   from crl_numbers (strictly increasing; a CRL whose number is not above the
//   last published one is never written), entries with revocation date and
//   reasonCode (omitted for unspecified), thisUpdate = now, nextUpdate = now +
//   config.crl_validity (<= 10d).
// - Revocations are streamed from the database (RevocationRepo::
//   ForEachInGeneration); 1M revocations must not need gigabytes.
// - Every generation attempt, success or failure, writes a
//   crl_generation_events row (started_at, succeeded, error, duration_ms,
//   revoked_count, crl_number, crl_size, trigger, runner).
// - A fresh CRL is parsed back and its signature verified with the
//   generation's CA certificate before it is written to crl_cache.
#pragma once

#include <optional>
#include <string>

#include "certctl/ops/op.h"

namespace certctl::ops {

enum class CrlTrigger { kScheduled, kStartup, kRevocation, kFetch, kAdmin };
std::string_view CrlTriggerName(CrlTrigger trigger);  // "scheduled", "startup", ...

struct CrlArtifact {
  std::string issuer;
  int generation = 0;
  int64_t crl_number = 0;
  std::string der;
  TimePoint this_update;
  TimePoint next_update;
  TimePoint generated_at;
  int64_t revoked_count = 0;
  int64_t duration_ms = 0;
};

// Builds, signs, verifies and stores a fresh CRL for every CA generation of
// `issuer` that is active or still has unexpired certificates. Runs under
// RunMutation with lock CrlLockName(issuer); ctx.lock_wait applies (the
// daemon's scheduler passes 0 and treats Busy as "another replica is on
// it"). Audited unless trigger is kScheduled/kStartup/kRevocation/kFetch (the
// event rows are their record). Dry run: report.plan says which generations
// would get which CRL number and how many entries; nothing is written.
// report.data: {"issuer", "crls": [{generation, crl_number, size, revoked_count,
// this_update, next_update, duration_ms}]}.
Status RegenerateCrl(OpContext& ctx, const std::string& issuer, CrlTrigger trigger,
                     OpReport& report);

// `crl regenerate --invalidate-only`: deletes the issuer's crl_cache rows
// (audited, locked, dry-run aware) and says in report.data["next_fetch"] what
// the next fetch will do (sign live and write back).
Status InvalidateCrlCache(OpContext& ctx, const std::string& issuer, OpReport& report);

// `crl status`: for `issuer` (or every issuer when empty) reports the cache
// row (size, crl_number, this/next update, generated_at, duration,
// revoked_count), the last `events` generation events, and a verdict per
// generation: "ok", "missing", "stale", "corrupt", "bad_signature",
// "count_mismatch" (cached revoked_count differs from the database). Each
// non-ok verdict is an error finding "crl.<verdict>".
// report.data: {"issuers": [{issuer, generations: [{generation, verdict,
// cache: {...}|null, database_revoked_count, events: [...]}]}]}.
Status DescribeCrls(OpContext& ctx, const std::string& issuer, int events, OpReport& report);

// `crl verify`: checks a CRL fetched from a running certctld (DER bytes
// given by the caller): parses, signature against the issuer's generation
// (found by the CRL's AKI), nextUpdate in the future, and its serials equal
// the database's revocations of that generation. Findings: crl.unparseable,
// crl.bad_signature, crl.expired, crl.missing_serials, crl.extra_serials.
Status VerifyFetchedCrl(OpContext& ctx, const std::string& issuer, const std::string& der,
                        OpReport& report);

// The serving side, owned by certctld (thread-safe). Keeps the last good
// CRL of each generation in memory, so it can keep serving while PostgreSQL
// is unreachable (until nextUpdate).
class CrlService {
 public:
  explicit CrlService(OpContext ctx);
  ~CrlService();

  struct Served {
    std::shared_ptr<const CrlArtifact> crl;
    bool from_memory = false;  // served without touching the database
  };
  // The CRL of the active generation (generation unset) or of `generation`.
  // Read-through crl_cache: a cached row is served only if it parses, its
  // signature verifies with the generation's CA key and nextUpdate is in the
  // future; otherwise signs live (RegenerateCrl with kFetch) and serves that.
  // NotFound for an unknown issuer/generation; Unavailable when the database
  // is down and nothing valid is in memory.
  Result<Served> Get(const std::string& issuer, std::optional<int> generation);

  // Drops the in-memory copies of an issuer's CRLs (NOTIFY "crl" scope, or
  // after a regeneration by this process).
  void Invalidate(const std::string& issuer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace certctl::ops
