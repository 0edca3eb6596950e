// Private to core/src/ops: the OCSP answering path below the in-process
// cache (OcspService) and the responder helpers shared by the procedures.
//
// OcspEngine answers a parsed request from ocsp_response_cache or by live
// signing, writing live answers back under the revocation-epoch check. It
// keeps in memory what answering needs: each issuer's CA generations (parsed
// certificates), the loaded responder keys, and the status of certificates
// it has read. It is thread-safe.
//
// Memory discipline (as the service's answers): everything kept is read after
// `invalidations()` was noted and stored only if no invalidation came in
// between; Forget drops it. A request then needs, in order:
// - a nonce or several CertIDs whose statuses, generations and responder are
//   all in memory: no query;
// - one CertID, the issuer's generations known: one statement
//   (OcspAnswerRepo::Read: status, epoch, stored answer, responder serial);
// - otherwise (first request for an issuer, a responder to bootstrap or
//   rotate, material that disagrees with the database): the full read.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "certctl/model/invalidation.h"
#include "certctl/model/records.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/ops/op.h"
#include "certctl/pki/ocsp.h"
#include "ops/ocsp_write_back.h"
#include "store/ocsp_repo.h"

namespace certctl::ops::internal {

// A responder ready to sign.
struct LoadedResponder {
  std::string issuer;
  int generation = 0;
  std::string serial;
  std::string key_path;  // the key file it was loaded from
  UniquePtr<X509> cert;
  UniquePtr<EVP_PKEY> key;
  TimePoint not_after;
};

// Loads a responder row's certificate and key file and checks that the key
// matches and that `ca_cert` issued the certificate with the responder
// profile. The error says what is wrong (for logs and reasons).
Result<std::shared_ptr<const LoadedResponder>> LoadResponder(
    const OcspResponderRecord& row, X509* ca_cert);

// The responder row as the operations' results show it.
ResponderCertificate CertificateOf(const OcspResponderRecord& row);

// Signs a test answer (the responder's own serial, "good") with `responder`
// and verifies it with `ca_cert` as a relying party would.
Status VerifyResponderWithTestAnswer(const LoadedResponder& responder, X509* ca_cert,
                                     TimePoint now, std::chrono::seconds validity);

// A serial of an issuer and the CA generation that answers for it: the one
// that issued the certificate, else (a serial this issuer never issued, to be
// answered "unknown") the active generation.
struct SerialAndGeneration {
  std::optional<CertificateStatusRecord> certificate;  // unset: never issued
  std::optional<CaGenerationRecord> generation;        // unset: no such issuer
};
// Reads both in the caller's transaction; `serial` is canonical hex.
Result<SerialAndGeneration> FindSerialAndGeneration(Transaction& tx,
                                                    const std::string& issuer,
                                                    const std::string& serial);

// A parsed CA certificate of one generation, shared.
struct GenerationCa {
  int generation = 0;
  std::shared_ptr<X509> cert;
};

// A certificate's status as last read from the database.
struct KnownStatus {
  int generation = 0;
  std::optional<int> reason;  // set when revoked
  TimePoint revoked_at;
  TimePoint read_at;  // served from memory until half the answer validity later
};

// SHA-256 binding a row of ocsp_response_cache to the CertID it answers (DER
// as the client sent it) and to the columns the engine decides on: stored
// with the row, recomputed on reading it (migrations/0008).
std::string CachedAnswerDigest(const OcspCacheRecord& row,
                               const std::string& cert_id_der);

struct EngineOptions {
  // Serve a database row only when its status agrees with the revocation
  // records (the service); `ocsp check` turns it off to see what the shared
  // cache holds, as any replica would serve it.
  bool verify_cached_status = true;
  bool write_back = true;
  std::function<void(const std::string& issuer, const std::string& serial)>
      before_write_back;
  // Set: answers are queued for a batched write-back (certctld) instead of
  // being written inline; returns whether the queue took it.
  std::function<bool(PendingWriteBack)> queue_write_back;
};

// The OCSPResponse the engine produced (from ocsp_response_cache or signed
// live) and what the service's memory cache needs to know about it.
struct EngineResponse {
  std::string der;
  OcspResponseStatus response_status = OcspResponseStatus::kSuccessful;
  std::string cert_status;  // "good", "revoked", "unknown", "mixed" or ""
  bool cache_hit = false;   // from ocsp_response_cache
  bool cacheable = false;   // one CertID, no nonce, good or revoked
  bool written = false;     // written back to ocsp_response_cache
  bool queued = false;      // queued for the batched write-back
  std::string serial;       // of the single CertID, when cacheable
  std::optional<TimePoint> this_update;
  std::optional<TimePoint> next_update;
};

class OcspEngine {
 public:
  explicit OcspEngine(OpContext ctx, size_t status_entries = 100000);

  // Unavailable when PostgreSQL cannot be reached; Busy when a needed
  // responder bootstrap is held up by another process's lock. Unknown
  // issuers and foreign CertIDs are answers (unauthorized), not errors.
  Result<EngineResponse> Respond(const std::string& issuer,
                                 const OcspRequestInfo& request,
                                 const EngineOptions& options);

  // The CA certificates of the issuer's generations as last read from the
  // database (for building CertIDs while it is unreachable).
  std::vector<GenerationCa> KnownGenerations(const std::string& issuer);
  // The issuer's generations from memory, read when not there. NotFound for
  // an issuer that does not exist.
  Result<std::vector<GenerationCa>> Generations(const std::string& issuer);
  // The generation that issued `serial` (canonical hex), when its status is
  // in memory and fresh.
  std::optional<int> KnownGenerationOf(const std::string& issuer,
                                       const std::string& serial);

  // Invalidations: BeginInvalidation first (nothing read before it is stored
  // after it), then Forget: a serial's status, or (serial empty) everything
  // of the issuer (all issuers when empty): statuses, generations, responders.
  void BeginInvalidation() { ++invalidations_; }
  void Forget(const Invalidation& what);
  uint64_t invalidations() const { return invalidations_.load(); }
  // False while invalidations may go unheard: no answer is signed from
  // memory alone then (the service's SetInvalidationsHeard).
  void SetMemoryTrusted(bool trusted) { memory_trusted_ = trusted; }

  OpContext& context() { return ctx_; }

  // Entries dropped from the material maps below because they were full
  // (see kMaxMaterialEntries); for certctl_memory_evictions_total.
  uint64_t MaterialEvictions() const { return evictions_.load(); }
  // Every map of loaded material holds at most this many entries. Keys are
  // canonical ids of issuers that exist in the database (the service refuses
  // anything else before it gets here), so the cap is a second line of
  // defence: reaching it only costs re-reading material from the database.
  static constexpr size_t kMaxMaterialEntries = 4096;

 private:
  struct ReadState;
  struct Signing;
  Status Read(const std::string& issuer, const OcspRequestInfo& request, ReadState& st,
              uint64_t seen);
  std::optional<EngineResponse> RespondFromMemory(const std::string& issuer,
                                                  const OcspRequestInfo& request);
  Result<std::optional<EngineResponse>> RespondWithOneRead(const std::string& issuer,
                                                           const OcspRequestInfo& request,
                                                           const EngineOptions& options,
                                                           uint64_t seen);
  Result<EngineResponse> RespondWithFullRead(const std::string& issuer,
                                             const OcspRequestInfo& request,
                                             const EngineOptions& options, uint64_t seen);
  Result<EngineResponse> Finish(const Signing& signing, const EngineOptions& options);
  OcspSingleResponse AnswerFor(const std::string& issuer, const OcspCertId& id,
                               int matched, int signing,
                               const std::optional<KnownStatus>& status);
  Result<std::shared_ptr<const LoadedResponder>> AcquireResponder(
      const std::string& issuer, const GenerationCa& ca,
      const std::optional<OcspResponderRecord>& row, uint64_t seen);
  Result<std::shared_ptr<const LoadedResponder>> EnsureAndLoad(const std::string& issuer,
                                                               const GenerationCa& ca,
                                                               uint64_t seen);
  std::shared_ptr<const LoadedResponder> LoadedResponderOf(const std::string& issuer,
                                                           int generation);
  void KeepResponder(const std::shared_ptr<const LoadedResponder>& r, uint64_t seen);
  bool CachedResponseUsable(const OcspCacheRecord& cached, const OcspCertId& id,
                            const LoadedResponder& responder,
                            std::optional<int> expected_status, TimePoint now);
  std::vector<GenerationCa> RememberGenerations(
      const std::string& issuer, const std::vector<CaGenerationRecord>& records,
      uint64_t seen);
  void RememberStatus(const std::string& issuer, const std::string& serial,
                      const KnownStatus& status, uint64_t seen);
  std::optional<KnownStatus> FreshStatus(const std::string& issuer,
                                         const std::string& serial, TimePoint now);
  bool ResponderDue(TimePoint not_after, TimePoint now) const;

  OpContext ctx_;
  const size_t status_entries_;
  std::atomic<uint64_t> invalidations_{0};
  std::atomic<bool> memory_trusted_{true};
  std::mutex mu_;  // guards the maps below
  std::map<std::pair<std::string, int>, std::shared_ptr<const LoadedResponder>>
      responders_;
  std::map<std::pair<std::string, int>, TimePoint> ensure_failed_at_;
  std::map<std::string, std::shared_ptr<X509>> ca_by_fingerprint_;
  std::map<std::string, std::vector<GenerationCa>> generations_;
  // issuer '\x1f' serial -> status; at most status_entries_.
  std::unordered_map<std::string, KnownStatus> statuses_;
  std::mutex ensure_mu_;  // one bootstrap/rotation at a time in this process
  std::atomic<uint64_t> evictions_{0};
};

}  // namespace certctl::ops::internal
