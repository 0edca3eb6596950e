// OCSP procedures (RFC 6960, profile of RFC 5019): the delegated responder
// certificate of each CA generation, answering requests, and the operator's
// checks.
//
// CONTRACT (implemented in core/src/ops/ocsp_*.cc):
// - Responder certificate per CA generation: ECDSA P-256 key, EKU
//   OCSPSigning, id-pkix-ocsp-nocheck, keyUsage digitalSignature, validity
//   config.ocsp_responder_validity (30d), signed by the generation's CA key.
//   Key file {config.ocsp_responder_key_dir}/{issuer}-g{generation}-{serial}.key
//   (the certificate's serial: a file of its own per responder), written
//   atomically, mode 0600, directory 0700, never over an existing file. Row
//   in ocsp_responder_certs; every replaced row is copied to
//   ocsp_responder_cert_history with replaced_at and replaced_reason.
// - Replacing a responder (bootstrap, rotation, reset): the new key file is
//   written first, under its new name; one transaction then switches the row
//   (history kept; for a reset also the cache drop and NOTIFY); only then is
//   the replaced key file retired, renamed to "<file>.bak-<UTC stamp>" and
//   kept 0600, never deleted. Killed at any moment, the row names a key file
//   that holds its certificate's key. When the switch fails, the previous
//   responder stays in use, and the new key file is removed, or left unused
//   and named in the error when the database cannot say whether the switch
//   committed. Temporaries of this generation's interrupted key writes are
//   removed before writing (under the responder lock, whatever their age).
//   Fail points "responder.*" (util/fail_point.h) sit between the steps.
// - Answers: every request in an OCSPRequest is answered; CertIDs (SHA-1 or
//   SHA-256) are matched against the issuer's generations by issuer name hash
//   and key hash; a CertID for another CA is "unknown" (or the whole
//   response "unauthorized" when no single answer applies); a serial this
//   issuer never issued is "unknown", never "good"; revoked answers carry
//   revocation time and reason; thisUpdate/nextUpdate from
//   config.ocsp_response_validity; a nonce (1-32 bytes) is echoed in
//   responseExtensions and bypasses every cache; a malformed request gets a
//   malformedRequest response. One responder signs a response: CertIDs of
//   another generation than the first matched one are "unknown" (a relying
//   party asks about one certificate at a time anyway).
// - Caches: ocsp_response_cache in PostgreSQL (shared by replicas) and a
//   bounded in-process cache in front. An answer past half its validity is
//   re-signed. A live signing reads issuers.revocation_epoch before signing
//   and writes its answer back only if the epoch is unchanged (a revocation
//   bumps it in its own transaction), so a racing revocation can never leave
//   a stale "good" cached. The check and the write are one statement holding
//   a share lock on the issuer row (OcspCacheRepo::PutIfEpochUnchanged).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "certctl/ops/op.h"
#include "certctl/store/invalidation.h"

namespace certctl::ops {

// A responder certificate as it appears in report.data (timestamps RFC 3339):
// {"serial", "subject", "not_before", "not_after", "created_at", "key_path"}.

// Makes sure `issuer`'s generation has a usable responder (row present, key
// file present, loadable and matching, certificate issued by the generation's
// CA with the responder profile, valid for longer than
// config.ocsp_responder_renew_before); bootstraps or rotates otherwise, under
// lock OcspResponderLockName(issuer) (waiting up to ctx.lock_wait). Not
// audited when called by certctld's lazy bootstrap or scheduler (report.steps
// says what happened). Dry run: report.plan says what would be done.
// report.data: {"issuer", "generation", "action": "none" | "bootstrapped" |
// "rotated" | "replaced", "reason", "responder": {...} | null}.
// NotFound for an unknown issuer or generation.
Status EnsureOcspResponder(OpContext& ctx, const std::string& issuer, int generation,
                           bool audit, OpReport& report);

// Scheduler: EnsureOcspResponder (not audited) for every generation of every
// issuer. A retired generation is only kept up when it still has a responder
// row and unexpired certificates, and never past its CA certificate's
// notAfter. Busy for one issuer (another replica is on it) is not an error.
// Returns the first failure after trying every generation.
// report.data: {"responders": [{"issuer", "generation", "action": "none" |
// "bootstrapped" | "rotated" | "replaced" | "skipped" | "busy" | "failed",
// "reason", "error"}]}.
Status RotateDueOcspResponders(OpContext& ctx, OpReport& report);

// `ocsp status`: responder certificate (subject, serial, validity, nocheck
// and OCSPSigning present, issued by the current CA generation), its key file
// (exists, mode 0600, owner, key matches the certificate), recent rotations
// from history. Findings for each problem ("ocsp.responder_missing",
// "ocsp.key_missing", "ocsp.key_mode", "ocsp.key_mismatch",
// "ocsp.responder_expiring", "ocsp.wrong_issuer", ...).
// Findings are about the active generation; "ocsp.responder_expiring" (less
// than config.ocsp_responder_renew_before left: the rotation did not fire) is
// a warning, every other finding an error ("ocsp.key_unreadable",
// "ocsp.responder_expired", "ocsp.profile" too). Read-only.
// report.data: {"issuer", "generations": [{"generation", "state",
// "responder": {serial, subject, not_before, not_after, created_at, key_path,
// ocsp_signing, ocsp_nocheck, digital_signature, issued_by_generation,
// key_algorithm} | null, "key_file": {"path", "exists", "mode" ("0600"),
// "owner", "matches_certificate"}, "history": [{serial, subject, not_before,
// not_after, created_at, replaced_at, reason}] (newest first, at most 10)}]}.
Status DescribeOcspResponder(OpContext& ctx, const std::string& issuer, OpReport& report);

// `ocsp reset-responder`: a new key (unless keep_key) and responder
// certificate, replaced as described at the top (the issuer's cached OCSP
// answers deleted and running certctld notified in the switch's transaction),
// then verified: the row is read back, the key file it names loaded and
// matched with the certificate, and a test answer signed with them checked
// with the CA certificate. Audited, locked, dry-run aware.
// Acts on the active generation; locks OcspResponderLockName(issuer) and
// OcspCacheLockName(issuer). keep_key keeps the key file the row names (or,
// the row deleted, the newest one in history); without a loadable one it is
// FailedPrecondition. Dry run: report.plan and report.before only; no file or
// row changes. report.data: {"issuer", "generation", "keep_key", "key_path",
// "key_backup" (where the replaced key file was retired, or ""), "old_serial"
// (or ""), "responder": {...},
// "ocsp_rows_deleted", "verified"}.
Status ResetOcspResponder(OpContext& ctx, const std::string& issuer, bool keep_key,
                          OpReport& report);

// Sends a DER OCSPRequest somewhere and returns the DER response (the CLI's
// HTTP client; tests may answer in-process).
using OcspFetcher = std::function<Result<std::string>(const std::string& request_der)>;

// `ocsp check`: what the responder answers for the serial against what the
// database says. Without a fetcher the answer comes from this process's own
// answering path (database cache, else live signing); with one, from the live
// responder. The answer's signature is verified with the CA certificate. An
// error finding "ocsp.disagreement" when the status differs (e.g. "good" for
// a revoked certificate), "ocsp.unverifiable" when the response does not
// verify. report.data: {issuer, serial, database: {status, reason,
// revoked_at}, responder: {status, reason, revoked_at, this_update,
// next_update, produced_at, responder}}.
// Statuses are "good", "revoked", "unknown"; reason is the RFC 5280 name or
// null; times RFC 3339 or null. responder.responder is the signing
// certificate's subject; responder also has "responder_serial" and "source"
// ("cache": the row in ocsp_response_cache, as any replica would serve it;
// "live": signed now, not written back; "fetcher"). Other error findings:
// "ocsp.error_response" (not successful), "ocsp.no_answer" (the response has
// no answer for the CertID asked), "ocsp.expired" (nextUpdate passed).
// InvalidArgument for a malformed serial; NotFound for an unknown issuer.
Status CheckOcspAnswer(OpContext& ctx, const std::string& issuer,
                       const std::string& serial, const OcspFetcher& fetcher,
                       OpReport& report);

// Builds a DER OCSPRequest (SHA-1 CertID, no nonce) for a serial of the
// issuer's generation (the active one when unset). InvalidArgument for a
// malformed serial, NotFound for an unknown issuer or generation.
Result<std::string> MakeOcspRequest(OpContext& ctx, const std::string& issuer,
                                    const std::string& serial,
                                    std::optional<int> generation = std::nullopt);

// The answering engine, owned by certctld (thread-safe).
class OcspService {
 public:
  // `memory_entries` bounds the in-process cache.
  OcspService(OpContext ctx, size_t memory_entries = 100000);
  ~OcspService();

  struct Answer {
    std::string der;          // an OCSPResponse, always (errors included)
    int response_status = 0;  // OCSPResponseStatus: 0 successful, 1 malformedRequest,
                              // 2 internalError, 3 tryLater, 6 unauthorized
    std::string cert_status;  // "good", "revoked", "unknown", "mixed" or "" (no answers)
    bool cache_hit = false;   // served from a cache (memory or database)
    bool from_memory = false;
    bool nonce = false;
    std::optional<TimePoint> next_update;  // for Cache-Control / Expires
    std::optional<TimePoint> this_update;
  };

  // POST body or decoded GET path, for the issuer named in the URL. Never
  // fails: malformed DER or a bad nonce is malformedRequest (1); an unknown
  // or malformed issuer id (anything IsIssuerId refuses: it never reaches a
  // cache or the database), or a request none of whose CertIDs belongs to
  // the issuer, is unauthorized (6); PostgreSQL unreachable with nothing valid in memory
  // is tryLater (3); anything unexpected is internalError (2) and logged.
  //
  // Only single-CertID requests without a nonce whose answer is "good" or
  // "revoked" are cached (memory and ocsp_response_cache, keyed by the
  // CertID as sent, so SHA-1 and SHA-256 CertIDs have their own entries).
  // A memory entry is served until half its validity, then re-signed; while
  // PostgreSQL is unreachable it is served until its nextUpdate. A database
  // row is served only if it parses, answers this CertID, is signed by the
  // current responder, is not past half its validity and agrees with
  // certificate_revocations; otherwise the answer is signed live (bootstrapping
  // or rotating the responder when needed) and written back.
  Answer Respond(const std::string& issuer, std::string_view request_der);
  // GET .../serial/{serial_hex}: the answer (SHA-1 CertID, no nonce) for one
  // serial, as issued by the generation that issued it (the active generation
  // when this issuer never issued the serial). The serial is taken in any
  // case, with or without leading zeros (Serial::Parse). InvalidArgument for a
  // malformed serial (the only error); every other failure is an answer, as
  // with Respond.
  Result<Answer> RespondForSerial(const std::string& issuer, std::string_view serial);

  // NOTIFY handler and local revocations: drops in-memory answers for
  // {scope "ocsp" or "all", issuer (empty: all), serial (empty: all of the
  // issuer)}; scope "crl" is ignored. An issuer-wide invalidation also forgets
  // the issuer's loaded responder keys (reset-responder notifies so). After
  // the LISTEN connection was lost and re-established, call it with
  // {"all", "", ""}: notifications sent meanwhile were missed.
  void Invalidate(const Invalidation& what);
  size_t MemoryEntries() const;
  // Loaded issuer/responder/CA entries dropped because their maps were full.
  uint64_t MaterialEvictions() const;

  // Test seam: called on a live signing after the answer is signed and before
  // it is written back to ocsp_response_cache (issuer, canonical serial).
  // Set before the service is shared between threads.
  void SetBeforeWriteBackHookForTesting(
      std::function<void(const std::string& issuer, const std::string& serial)> hook);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace certctl::ops
