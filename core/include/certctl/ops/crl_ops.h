// CRL procedures: generation, serving with a verified read-through cache, and
// the operator's checks. JSON of the results: certctl/ops/crl_json.h. certctld's
// crlGenerationLoop and `certctl-admin crl regenerate` call the same RegenerateCrl.
//
// CONTRACT (implemented in core/src/ops/crl_ops.cc, crl_status.cc and
// crl_service.cc; the encoder is certctl/pki/crl_builder.h, the reader
// certctl/pki/crl_reader.h):
// - One CRL per CA generation: version 2, Authority Key Identifier, CRL Number
//   from crl_numbers (strictly increasing; a CRL whose number is not above the
//   last published one is never written), entries with revocation date and
//   reasonCode (omitted for unspecified), thisUpdate = now, nextUpdate = now +
//   config.crl_validity (<= 10d). The signature is made with the generation's
//   CA key (CaKeyring::Get) and SigningDigest(); ECDSA, RSA and Ed25519 CAs.
// - Revocations are streamed from the database (RevocationRepo::
//   ForEachInGeneration); 1M revocations must not need gigabytes.
// - Every generation attempt, success or failure, writes a
//   crl_generation_events row (started_at, succeeded, error, duration_ms,
//   revoked_count, crl_number, crl_size, trigger, runner).
// - A fresh CRL is parsed back and its signature verified with the
//   generation's CA certificate before it is written to crl_cache.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/ops/op.h"

namespace certctl::ops {

// kRotation: the first CRL of a generation `ca rotate` brings in.
enum class CrlTrigger { kScheduled, kStartup, kRevocation, kFetch, kAdmin, kRotation };
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
  std::string der_sha256;  // raw SHA-256 of der (e.g. for an ETag)
};

// A CRL RegenerateCrl signed, verified and cached.
struct CrlRegenerated {
  std::string issuer;
  int generation = 0;
  int64_t number = 0;  // its CRL number
  TimePoint this_update;
  TimePoint next_update;
  int64_t revoked = 0;                    // entries
  int64_t der_size = 0;                   // bytes
  std::chrono::milliseconds duration{0};  // the whole generation attempt
};

// A CRL a dry run of RegenerateCrl would sign.
struct PlannedCrl {
  int generation = 0;
  int64_t number = 0;
  int64_t revoked = 0;
};

struct CrlRegeneration {
  std::string issuer;
  std::vector<CrlRegenerated> crls;                // signed by this run (not reused ones)
  std::optional<std::vector<PlannedCrl>> planned;  // a dry run's plan
};

// Builds, signs, verifies and stores a fresh CRL for every CA generation of
// `issuer` that is active or still has unexpired certificates. Runs under
// RunMutation with lock CrlLockName(issuer); ctx.lock_wait applies (the
// daemon's scheduler passes 0 and treats Busy as "another replica is on
// it"). Audited unless trigger is kScheduled/kStartup/kRevocation/kFetch/kRotation (the
// event rows are their record). Dry run: report.plan and `planned` say which
// generations would get which CRL number and how many entries; nothing is
// written.
//
// Each generation is built in one transaction: reserve the next CRL number
// (if the counter is behind the cached CRL's number, e.g. after a partial
// restore, it is moved past it and a step says so), stream the revocations,
// sign, parse back and verify, write the cache row (only if its number is
// above the cached one) and NOTIFY "crl"; then a crl_generation_events row
// is written in its own transaction, also when any of that failed. A failed
// generation does not stop the others; the first failure is returned and
// each is an error finding "crl.generation_failed" (the CRLs that were
// written reach RegenerateOptions::artifacts all the same).
// Errors: NotFound for an unknown issuer or generation (nothing written, not
// audited), Busy naming the lock holder, Unavailable when the database is
// down, and the signing error (e.g. CA key file missing) otherwise.
Result<CrlRegeneration> RegenerateCrl(OpContext& ctx, const std::string& issuer,
                                      CrlTrigger trigger, OpReport& report);

struct RegenerateOptions {
  // Only this generation (any existing one, also retired); default: every
  // generation that needs a CRL (see above).
  std::optional<int> generation;
  // For live signing on fetch: once the lock is held, a cached CRL that is
  // valid (parses, verifies, not expired) is used instead of signing again,
  // because another process has just generated it. No event is written then.
  bool reuse_valid_cache = false;
  // Receives each CRL written (or reused), with its bytes, also when another
  // generation failed; may be null.
  std::vector<CrlArtifact>* artifacts = nullptr;
  // Dry run: revocations the caller adds before signing (db post-restore's
  // re-applied ones), by generation, counted in the planned CRLs' entries.
  std::map<int, int64_t> planned_additions;
};
Result<CrlRegeneration> RegenerateCrl(OpContext& ctx, const std::string& issuer,
                                      CrlTrigger trigger,
                                      const RegenerateOptions& options, OpReport& report);

struct CachedCrlCount {
  int64_t cached_crls = 0;
};

struct CrlCacheInvalidated {
  std::string issuer;
  int64_t rows_to_delete = 0;
  int64_t rows_deleted = 0;  // 0 in a dry run
  std::string next_fetch;    // what the next fetch will do, for people
  std::optional<CachedCrlCount> before;
  std::optional<CachedCrlCount> after;  // absent in a dry run
};

// `crl regenerate --invalidate-only`: deletes the issuer's crl_cache rows
// (audited, locked, dry-run aware) and says what the next fetch will do
// (sign live and write back). NotFound for an unknown issuer (nothing
// written, not audited).
Result<CrlCacheInvalidated> InvalidateCrlCache(OpContext& ctx, const std::string& issuer,
                                               OpReport& report);

// What DescribeCrls concludes about a generation's cached CRL.
enum class CrlVerdict { kOk, kMissing, kCorrupt, kBadSignature, kStale, kCountMismatch };
// "ok", "missing", "corrupt", "bad_signature", "stale", "count_mismatch".
std::string_view CrlVerdictName(CrlVerdict verdict);

// A crl_cache row, without its bytes.
struct CachedCrlSummary {
  int64_t size = 0;  // bytes
  int64_t crl_number = 0;
  TimePoint this_update;
  TimePoint next_update;
  TimePoint generated_at;
  std::chrono::milliseconds duration{0};  // how long generating it took
  int64_t revoked_count = 0;
};

// A crl_generation_events row.
struct CrlGenerationAttempt {
  TimePoint started_at;
  bool succeeded = false;
  std::string error;  // empty when it succeeded
  std::chrono::milliseconds duration{0};
  std::optional<int64_t> revoked_count;  // unset: it did not get that far
  std::optional<int64_t> crl_number;
  std::optional<int64_t> crl_size;
  std::string trigger;  // CrlTriggerName()
  std::string runner;   // "host:pid"
};

struct CrlGenerationStatus {
  int generation = 0;
  GenerationState state = GenerationState::kActive;
  CrlVerdict verdict = CrlVerdict::kOk;
  std::string detail;                     // why the verdict; empty when ok
  std::optional<CachedCrlSummary> cache;  // unset: no cached row
  int64_t database_revoked_count = 0;
  std::vector<CrlGenerationAttempt> events;  // newest first
};

struct IssuerCrlStatus {
  std::string issuer;
  std::vector<CrlGenerationStatus> generations;  // those RegenerateCrl would sign
};

struct CrlStatus {
  std::vector<IssuerCrlStatus> issuers;
};

// `crl status`: for `issuer` (or every issuer when empty) the cache row, the
// last `events` generation events, and a verdict per generation. Each
// non-ok verdict is an error finding "crl.<verdict>". Verdicts are checked
// in this order: missing (no row), corrupt (does not parse, or its CRL
// number differs from the row's), bad_signature (issuer or signature is not
// the generation's CA), stale (nextUpdate passed), count_mismatch (entries
// in the CRL or the row's revoked_count differ from the database's
// revocations of that generation).
// NotFound for an unknown issuer; InvalidArgument for events < 0. Read-only.
Result<CrlStatus> DescribeCrls(OpContext& ctx, const std::string& issuer, int events,
                               OpReport& report);

// What a fetched CRL says about itself.
struct CrlContents {
  std::optional<int64_t> crl_number;
  TimePoint this_update;
  std::optional<TimePoint> next_update;
  int64_t entries = 0;
};

// A fetched CRL's serials against the database's revocations of the
// generation that signed it.
struct CrlSerialComparison {
  int64_t database_revoked_count = 0;
  std::vector<std::string> missing_serials;  // revoked, not listed (at most 100)
  int64_t missing_count = 0;
  std::vector<std::string> extra_serials;  // listed, not revoked (at most 100)
  int64_t extra_count = 0;
};

struct FetchedCrlVerified {
  std::string issuer;
  std::string url;  // where it was fetched (as the caller said)
  int64_t size = 0;
  std::optional<CrlContents> contents;         // once it parsed
  std::optional<int> generation;               // the generation whose key signed it
  std::optional<CrlSerialComparison> serials;  // once its signature verified
};

// `crl verify`: checks a CRL fetched from a running certctld (DER bytes
// given by the caller, with the URL they came from): parses, signature
// against the issuer's generation (found by the CRL's AKI), nextUpdate in the
// future, and its serials equal the database's revocations of that
// generation. Findings: crl.unparseable, crl.bad_signature, crl.expired,
// crl.missing_serials, crl.extra_serials. (A CRL whose AKI matches no
// generation of the issuer is crl.bad_signature.) Serials are compared only
// when the signature verified. Succeeds when the check ran (problems are
// findings); NotFound for an unknown issuer; Unavailable when the database is
// down. Read-only.
Result<FetchedCrlVerified> VerifyFetchedCrl(OpContext& ctx, const std::string& issuer,
                                            const std::string& url,
                                            const std::string& der, OpReport& report);

struct CrlServiceOptions {
  // A CRL verified less than this long ago is served from memory without a
  // database query; after that (or after Invalidate) the next Get compares
  // the cache row's SHA-256 with the one in memory (a small query) and only
  // re-reads and re-verifies the row when it changed.
  std::chrono::milliseconds recheck_interval{5000};
  // How long a Get that must sign live waits for another process that holds
  // the CRL lock (it is generating the same CRL) before re-reading the cache.
  std::chrono::milliseconds generation_wait{10000};
};

// The serving side, owned by certctld (thread-safe). Keeps the last good
// CRL of each generation in memory, so it can keep serving while PostgreSQL
// is unreachable (until nextUpdate).
class CrlService {
 public:
  explicit CrlService(OpContext ctx);
  CrlService(OpContext ctx, CrlServiceOptions options);
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
  //
  // Live signing runs under the CRL lock with lock_wait =
  // options.generation_wait; when the lock holder wrote a valid CRL
  // meanwhile, that one is served. Concurrent Gets of one CRL in this process
  // wait for a single refresh. When the database cannot be reached (or live
  // signing fails), the last good CRL in memory is served (from_memory) until
  // its nextUpdate; after that Unavailable.
  Result<Served> Get(const std::string& issuer, std::optional<int> generation);

  // Makes the next Get of each of the issuer's CRLs (empty: every issuer)
  // re-check crl_cache instead of trusting memory (NOTIFY "crl" scope, or
  // after a regeneration by this process). The bytes are kept only as the
  // fallback for a database outage.
  void Invalidate(const std::string& issuer);

  // Loading a new CRL off the request path (certctld's CRL loader, on the
  // NOTIFY of a regeneration): MarkForReload invalidates as Invalidate does,
  // but until ReloadMarked has re-checked a CRL (or for options.
  // recheck_interval at most, should nothing reload it), Get keeps serving
  // the one in memory while it is valid, instead of reading and verifying
  // the new row on the request path. ReloadMarked re-checks every marked CRL
  // on the caller's thread, the way a Get would (a changed row is read,
  // parsed and verified before it replaces the one in memory; one that fails
  // the check is never served: a fresh one is signed, or the old one kept
  // while the database fails), and returns how many it re-checked.
  void MarkForReload(const std::string& issuer);
  size_t ReloadMarked();

  // Serves `crl` from now on, as a verified CRL of its generation: a CRL
  // this process has just signed, verified and cached (RegenerateCrl's
  // artifacts), so it need not be read back. Ignored when the CRL in memory
  // has the same or a later CRL number.
  void Publish(CrlArtifact crl);

  // How many crl_cache rows this service has read and verified (each load
  // of a new CRL counts once; Gets served from memory count nothing).
  int64_t Loads() const;

  // CRLs (and generations being fetched) held in memory. Only generations
  // that exist and have a CRL stay: lookups that found nothing, or failed
  // with nothing to serve, leave no entry behind.
  size_t MemoryEntries() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace certctl::ops
