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
#include <vector>

#include "certctl/model/invalidation.h"
#include "certctl/model/records.h"
#include "certctl/net/http_client.h"
#include "certctl/ops/op.h"
#include "certctl/pki/ocsp.h"

namespace certctl::ops {

// A delegated responder certificate of a CA generation.
struct ResponderCertificate {
  std::string serial;  // canonical hex
  std::string subject;
  TimePoint not_before;
  TimePoint not_after;
  TimePoint created_at;  // when it became current
  std::string key_path;  // its key file
};

// What was done about a generation's responder.
enum class ResponderAction {
  kNone,          // it is usable
  kBootstrapped,  // there was none
  kRotated,       // it was close to expiry
  kReplaced,      // it was unusable (key file missing, mismatch, ...)
  kSkipped,       // (rotation pass) the generation needs no responder
  kBusy,          // (rotation pass) another process holds the lock
  kFailed,        // (rotation pass) see the error
};
// "none", "bootstrapped", "rotated", "replaced", "skipped", "busy", "failed".
std::string_view ResponderActionName(ResponderAction action);

struct ResponderEnsured {
  std::string issuer;
  int generation = 0;
  ResponderAction action = ResponderAction::kNone;  // (a dry run: would be)
  std::string reason;                               // why; "" for none
  std::optional<ResponderCertificate> responder;    // unset in a dry run that acts
};

// Makes sure `issuer`'s generation has a usable responder (row present, key
// file present, loadable and matching, certificate issued by the generation's
// CA with the responder profile, valid for longer than
// config.ocsp_responder_renew_before); bootstraps or rotates otherwise, under
// lock OcspResponderLockName(issuer) (waiting up to ctx.lock_wait). A
// replacement is audited ("ocsp.ensure-responder", started and ended, with
// the action and reason), also when certctld's scheduler or lazy bootstrap
// makes it; finding the responder usable (looked at first, without the lock)
// writes no event. report.steps says what happened. Dry run: report.plan
// says what would be done. NotFound for an unknown issuer or generation.
Result<ResponderEnsured> EnsureOcspResponder(OpContext& ctx, const std::string& issuer,
                                             int generation, OpReport& report);

// One generation in the scheduler's rotation pass.
struct ResponderRotation {
  std::string issuer;
  int generation = 0;
  ResponderAction action = ResponderAction::kSkipped;
  std::string reason;  // why (or, busy, who holds the lock)
  Status error;        // with kFailed
};

struct ResponderRotations {
  std::vector<ResponderRotation> responders;
};

// Scheduler: EnsureOcspResponder for every generation of every issuer. A retired
// generation is only kept up when it still has a responder row and unexpired
// certificates, and never past its CA certificate's notAfter. Busy for one issuer
// (another replica is on it) is not an error; a generation that fails is kFailed with its
// error and an error finding "ocsp.rotation_failed", and the pass goes on. Fails only
// when the issuers or generations cannot be read.
Result<ResponderRotations> RotateDueOcspResponders(OpContext& ctx, OpReport& report);

// A responder certificate as `ocsp status` inspects it.
struct InspectedResponder {
  ResponderCertificate certificate;
  bool ocsp_signing = false;          // EKU OCSPSigning
  bool ocsp_nocheck = false;          // id-pkix-ocsp-nocheck
  bool digital_signature = false;     // keyUsage
  bool issued_by_generation = false;  // signed by the generation's CA
  std::string key_algorithm;          // e.g. "ECDSA P-256"
};

// A responder key file as `ocsp status` inspects it.
struct ResponderKeyFile {
  std::string path;
  bool exists = false;
  std::optional<uint32_t> mode;  // permission bits, e.g. 0600
  std::optional<std::string> owner;
  bool matches_certificate = false;
  std::optional<std::string> algorithm;  // once the key parsed
};

// A responder certificate that was replaced (ocsp_responder_cert_history).
struct ReplacedResponder {
  ResponderCertificate certificate;
  std::optional<TimePoint> replaced_at;
  std::string reason;
};

struct GenerationResponders {
  int generation = 0;
  GenerationState state = GenerationState::kActive;
  std::optional<InspectedResponder> responder;  // unset: none (or it does not parse)
  ResponderKeyFile key_file;                    // the row's, or where a new one would go
  std::vector<ReplacedResponder> history;       // newest first, at most 10
};

struct ResponderStatus {
  std::string issuer;
  std::vector<GenerationResponders> generations;
};

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
Result<ResponderStatus> DescribeOcspResponder(OpContext& ctx, const std::string& issuer,
                                              OpReport& report);

// Sends a DER OCSPRequest somewhere and returns the DER response (the CLI's
// HTTP client; tests may answer in-process).
using OcspFetcher = std::function<Result<std::string>(const std::string& request_der)>;

// POSTs OCSP requests to `url` through `client`, the way `openssl ocsp -url`
// does; an answer other than 200 is Unavailable naming the status.
OcspFetcher HttpOcspFetcher(net::HttpClient client, std::string url);

// A certificate's status, as the database or an OCSP answer says it.
struct CertificateStatus {
  OcspCertStatus status = OcspCertStatus::kUnknown;
  std::optional<std::string> reason;  // RFC 5280 name, when revoked with one
  std::optional<TimePoint> revoked_at;
};

enum class OcspAnswerSource {
  kCache,    // the row in ocsp_response_cache, as any replica would serve it
  kLive,     // signed now, not written back
  kFetcher,  // from the responder the fetcher asked
};
std::string_view OcspAnswerSourceName(OcspAnswerSource source);  // "cache", ...

// The answer a responder gave for one CertID.
struct OcspAnswerSeen {
  CertificateStatus certificate;
  TimePoint this_update;
  std::optional<TimePoint> next_update;
  TimePoint produced_at;
  std::string responder;         // the signing certificate's subject ("" none)
  std::string responder_serial;  // and its serial
  OcspAnswerSource source = OcspAnswerSource::kLive;
};

struct OcspAnswerCheck {
  std::string issuer;
  std::string serial;  // canonical
  CertificateStatus database;
  // Unset when the response does not parse, is not successful or has no
  // answer for the CertID asked (each a finding).
  std::optional<OcspAnswerSeen> responder;
};

// `ocsp check`: what the responder answers for the serial against what the
// database says. Without a fetcher the answer comes from this process's own
// answering path (database cache, else live signing); with one, from the live
// responder. The answer's signature is verified with the CA certificate. An
// error finding "ocsp.disagreement" when the status differs (e.g. "good" for
// a revoked certificate), "ocsp.unverifiable" when the response does not
// verify. Other error findings: "ocsp.error_response" (not successful),
// "ocsp.no_answer" (the response has no answer for the CertID asked),
// "ocsp.expired" (nextUpdate passed).
// InvalidArgument for a malformed serial; NotFound for an unknown issuer.
Result<OcspAnswerCheck> CheckOcspAnswer(OpContext& ctx, const std::string& issuer,
                                        const std::string& serial,
                                        const OcspFetcher& fetcher, OpReport& report);

// A running responder to ask after a reset.
struct LiveResponder {
  std::string url;  // for messages
  OcspFetcher fetch;
};

// The responder and the cached answers, before and after a reset.
struct ResponderState {
  std::optional<ResponderCertificate> responder;
  int64_t ocsp_rows = 0;
};

struct ResponderReset {
  std::string issuer;
  int generation = 0;
  bool keep_key = false;
  std::string key_path;    // the new responder's key file (the kept one with keep_key)
  std::string key_backup;  // where the replaced key file was retired, or ""
  std::string old_serial;  // the replaced certificate's serial, or ""
  std::optional<ResponderCertificate> responder;  // the new one (unset in a dry run)
  int64_t ocsp_rows_deleted = 0;
  bool verified = false;  // its test answer verified with the CA certificate
  std::optional<OcspAnswerCheck> live_check;  // what the live responder answered
  std::optional<ResponderState> before;
  std::optional<ResponderState> after;  // unset in a dry run
};

// `ocsp reset-responder`: a new key (unless keep_key) and responder
// certificate, replaced as described at the top (the issuer's cached OCSP
// answers deleted and running certctld notified in the switch's transaction),
// then verified: the row is read back, the key file it names loaded and
// matched with the certificate, and a test answer signed with them checked
// with the CA certificate. Audited, locked, dry-run aware.
// Acts on the active generation; locks OcspResponderLockName(issuer) and
// OcspCacheLockName(issuer). keep_key keeps the key file the row names (or,
// the row deleted, the newest one in history); without a loadable one it is
// FailedPrecondition. Dry run: report.plan and `before` only; no file or row
// changes. With `live`, afterwards (outside the lock) asks that responder
// about serial 1 and checks that the answer is signed by the new certificate:
// an error finding "ocsp.live_responder_stale" when not; when it cannot be
// asked, that is the error (with context).
Result<ResponderReset> ResetOcspResponder(OpContext& ctx, const std::string& issuer,
                                          bool keep_key, OpReport& report,
                                          const std::optional<LiveResponder>& live = {});

// Builds a DER OCSPRequest (SHA-1 CertID, no nonce) for a serial of the
// issuer's generation (the active one when unset). InvalidArgument for a
// malformed serial, NotFound for an unknown issuer or generation.
Result<std::string> MakeOcspRequest(OpContext& ctx, const std::string& issuer,
                                    const std::string& serial,
                                    std::optional<int> generation = std::nullopt);

// The answering engine, owned by certctld (thread-safe).
class OcspService {
 public:
  // How signed answers reach ocsp_response_cache.
  enum class WriteBack {
    kInline,   // before Respond returns (certctl-admin, tests of the caches)
    kBatched,  // queued and written in batches by a thread of the service
               // (certctld): off the request path. A full queue (
               // write_back_queue answers) or a failed batch drops answers,
               // which only costs a re-signing later; the destructor writes
               // what is queued for up to 2 s and drops the rest.
  };
  // `memory_entries` bounds the in-process caches (answers, and statuses of
  // certificates).
  explicit OcspService(OpContext ctx, size_t memory_entries = 100000,
                       WriteBack write_back = WriteBack::kInline,
                       size_t write_back_queue = 10000);
  ~OcspService();

  // The OCSPResponse to send, with what HTTP caching headers need.
  struct ServedResponse {
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
  // row is served only if its digest matches this CertID and its columns (a
  // row without one: if it parses, answers this CertID and its signature
  // checks), it is signed by the current responder, is not past half its
  // validity and agrees with certificate_revocations; otherwise the answer is
  // signed live (bootstrapping or rotating the responder when needed) and
  // written back.
  //
  // Memory and queries: the issuer's CA generations and responder keys are
  // loaded once and kept until an issuer-wide invalidation; a certificate's
  // status read for an answer is kept (under the same invalidation
  // discipline as answers) for half the answer validity. A request with a
  // nonce or several CertIDs whose statuses are all in memory is signed
  // without a query; a single CertID missing in memory costs one statement
  // once the issuer's material is loaded.
  ServedResponse Respond(const std::string& issuer, std::string_view request_der);
  // GET .../serial/{serial_hex}: the answer (SHA-1 CertID, no nonce) for one
  // serial, as issued by the generation that issued it (the active generation
  // when this issuer never issued the serial). The serial is taken in any
  // case, with or without leading zeros (Serial::Parse). InvalidArgument for a
  // malformed serial (the only error); every other failure is an answer, as
  // with Respond.
  Result<ServedResponse> RespondForSerial(const std::string& issuer,
                                          std::string_view serial);

  // NOTIFY handler and local revocations: drops in-memory answers for
  // {scope "ocsp" or "all", issuer (empty: all), serial (empty: all of the
  // issuer)}; scope "crl" is ignored. An issuer-wide invalidation also forgets
  // the issuer's loaded responder keys (reset-responder notifies so). After
  // the LISTEN connection was lost and re-established, call it with
  // {"all", "", ""}: notifications sent meanwhile were missed.
  void Invalidate(const Invalidation& what);
  // Whether invalidations reach this service (certctld: its LISTEN connection
  // is up; default true, for a caller that invalidates directly). While
  // false, nothing is signed from statuses and responders in memory alone:
  // every live answer reads the database (answers in memory are still served
  // as documented above).
  void SetInvalidationsHeard(bool heard);
  // Waits until the answers queued for a batched write-back so far were
  // written or dropped (at once with WriteBack::kInline).
  void FlushWriteBacks();
  size_t MemoryEntries() const;
  // Loaded issuer/responder/CA entries dropped because their maps were full.
  uint64_t MaterialEvictions() const;

 private:
  // The CA certificate whose CertID answers for `serial`; null for an
  // unknown issuer. From memory unless `ask_database`; `guessed` when memory
  // had one generation and no status for the serial.
  Result<std::shared_ptr<X509>> CaForSerial(const std::string& issuer,
                                            const Serial& serial, bool& guessed,
                                            bool ask_database = false);
  friend class OcspServiceTestPeer;  // core/src/ops/ocsp_service_testing.h
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace certctl::ops
