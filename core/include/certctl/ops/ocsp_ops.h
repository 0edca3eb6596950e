// OCSP procedures (RFC 6960, profile of RFC 5019): the delegated responder
// certificate of each CA generation, answering requests, and the operator's
// checks.
//
// CONTRACT (implemented in core/src/ops/ocsp_*.cc):
// - Responder certificate per CA generation: ECDSA P-256 key, EKU
//   OCSPSigning, id-pkix-ocsp-nocheck, keyUsage digitalSignature, validity
//   config.ocsp_responder_validity (30d), signed by the generation's CA key.
//   Key file {config.ocsp_responder_key_dir}/{issuer}-g{generation}.key,
//   written atomically, mode 0600, directory 0700, an existing file kept as a
//   backup. Row in ocsp_responder_certs; every replaced row is copied to
//   ocsp_responder_cert_history with replaced_at and replaced_reason.
// - Answers: every request in an OCSPRequest is answered; CertIDs (SHA-1 or
//   SHA-256) are matched against the issuer's generations by issuer name hash
//   and key hash; a CertID for another CA is "unknown" (or the whole
//   response "unauthorized" when no single answer applies); a serial this
//   issuer never issued is "unknown", never "good"; revoked answers carry
//   revocation time and reason; thisUpdate/nextUpdate from
//   config.ocsp_response_validity; a nonce (1-32 bytes) is echoed in
//   responseExtensions and bypasses every cache; a malformed request gets a
//   malformedRequest response.
// - Caches: ocsp_response_cache in PostgreSQL (shared by replicas) and a
//   bounded in-process cache in front. An answer past half its validity is
//   re-signed. A live signing reads issuers.revocation_epoch before signing
//   and writes its answer back only if the epoch is unchanged (a revocation
//   bumps it in its own transaction), so a racing revocation can never leave
//   a stale "good" cached.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "certctl/ops/op.h"
#include "certctl/store/invalidation.h"

namespace certctl::ops {

// Makes sure `issuer`'s generation has a usable responder (row present, key
// file present and matching, certificate valid for longer than
// config.ocsp_responder_renew_before); bootstraps or rotates otherwise, under
// lock OcspResponderLockName(issuer). Not audited when called by certctld's
// lazy bootstrap or scheduler (report.steps says what happened).
Status EnsureOcspResponder(OpContext& ctx, const std::string& issuer, int generation,
                           bool audit, OpReport& report);

// Scheduler: EnsureOcspResponder for every generation of every issuer.
Status RotateDueOcspResponders(OpContext& ctx, OpReport& report);

// `ocsp status`: responder certificate (subject, serial, validity, nocheck
// and OCSPSigning present, issued by the current CA generation), its key file
// (exists, mode 0600, owner, key matches the certificate), recent rotations
// from history. Findings for each problem ("ocsp.responder_missing",
// "ocsp.key_missing", "ocsp.key_mode", "ocsp.key_mismatch",
// "ocsp.responder_expiring", "ocsp.wrong_issuer", ...).
Status DescribeOcspResponder(OpContext& ctx, const std::string& issuer, OpReport& report);

// `ocsp reset-responder`: a new key (unless keep_key) and responder
// certificate, key written atomically 0600 (old file kept as backup), row
// replaced with history kept, the issuer's OCSP response cache invalidated
// (rows deleted + NOTIFY), then verified by signing a test answer and checking
// it with the CA certificate. Audited, locked, dry-run aware.
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
Status CheckOcspAnswer(OpContext& ctx, const std::string& issuer, const std::string& serial,
                       const OcspFetcher& fetcher, OpReport& report);

// Builds a DER OCSPRequest (SHA-1 CertID, no nonce) for a serial of the
// issuer's generation (the active one when unset).
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
    std::string der;              // an OCSPResponse, always (errors included)
    int response_status = 0;      // OCSPResponseStatus: 0 successful, 1 malformedRequest,
                                  // 2 internalError, 3 tryLater, 6 unauthorized
    std::string cert_status;      // "good", "revoked", "unknown", "mixed" or "" (no answers)
    bool cache_hit = false;       // served from a cache (memory or database)
    bool from_memory = false;
    bool nonce = false;
    std::optional<TimePoint> next_update;  // for Cache-Control / Expires
    std::optional<TimePoint> this_update;
  };

  // POST body or decoded GET path, for the issuer named in the URL.
  Answer Respond(const std::string& issuer, std::string_view request_der);
  // GET .../serial/{serial_hex}: the answer for one serial of the issuer's
  // active generation (InvalidArgument for a malformed serial).
  Result<Answer> RespondForSerial(const std::string& issuer, std::string_view serial);

  // NOTIFY handler and local revocations: drops in-memory answers.
  void Invalidate(const Invalidation& what);
  size_t MemoryEntries() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace certctl::ops
