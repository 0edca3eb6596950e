// OCSP state in PostgreSQL: the current responder certificate per CA
// generation with its history, and the shared response cache.
//
// Cache rows are dropped with InvalidationRepo (store/invalidation.h); this
// repository reads, writes and scans them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/store/database.h"
#include "certctl/util/clock.h"

namespace certctl {

struct OcspResponderRecord {
  std::string issuer_id;
  int generation = 0;
  std::string serial_number;  // canonical hex
  std::string cert_subject;
  std::string cert_pem;
  TimePoint not_before;
  TimePoint not_after;
  std::string key_path;
  TimePoint created_at;
};

struct OcspResponderHistoryRecord {
  OcspResponderRecord responder;
  std::optional<TimePoint> replaced_at;  // unset for the current one
  std::string replaced_reason;
};

// A row of ocsp_response_cache: one signed OCSPResponse for one CertID.
struct OcspCacheRecord {
  std::string issuer_id;
  std::string serial;        // canonical hex
  std::string cert_id_hash;  // "sha1", "sha256", ...
  int generation = 0;
  int cert_status = 0;  // 0 good, 1 revoked, 2 unknown (OcspCertStatus)
  std::string response_der;
  TimePoint this_update;
  TimePoint next_update;
  TimePoint produced_at;
  std::string responder_serial;
  int64_t revocation_epoch = 0;  // the issuer's epoch the answer was signed under
  // SHA-256 binding the row to its request (ops/ocsp_engine.h,
  // CachedAnswerDigest); unset in rows written before schema version 8.
  std::optional<std::string> answer_digest;
};

class OcspResponderRepo {
 public:
  static Result<std::optional<OcspResponderRecord>> Find(Transaction& tx,
                                                         const std::string& issuer,
                                                         int generation);

  // Makes `record` the current responder of its generation. The row it
  // replaces (if any) is kept in ocsp_responder_cert_history with
  // replaced_at = `now` and `reason`, as is any earlier responder whose row
  // vanished (deleted by hand); the new one gets a history row with no
  // replaced_at, so history lists every responder that was ever current.
  static Status Replace(Transaction& tx, const OcspResponderRecord& record,
                        const std::string& reason, TimePoint now);

  // Newest first.
  static Result<std::vector<OcspResponderHistoryRecord>> History(
      Transaction& tx, const std::string& issuer, int generation, int limit);
};

// Where a cache scan resumes: after this primary key.
struct OcspCacheCursor {
  std::string issuer_id;
  std::string serial;
  std::string cert_id_hash;
};

// A cached answer with what the database says about its certificate.
struct OcspCacheScanRow {
  OcspCacheRecord answer;
  bool certificate_exists = false;
  std::optional<int> revocation_reason;                 // set when revoked
  std::optional<std::string> current_responder_serial;  // of the answer's generation
};

class OcspCacheRepo {
 public:
  static Result<std::optional<OcspCacheRecord>> Find(Transaction& tx,
                                                     const std::string& issuer,
                                                     const std::string& serial,
                                                     const std::string& cert_id_hash);

  // Writes (inserts or replaces) the answer only if the issuer's
  // revocation_epoch still equals answer.revocation_epoch, checked in the same
  // statement under a share lock on the issuer row: a revocation either
  // committed first (the epoch differs: nothing is written) or waits for this
  // write and then deletes the row in its own transaction. Returns whether
  // the row was written.
  static Result<bool> PutIfEpochUnchanged(Transaction& tx, const OcspCacheRecord& answer);

  // Up to `limit` rows after `after` in primary-key order (all when `after`
  // is unset), with the certificate's status and the current responder.
  static Result<std::vector<OcspCacheScanRow>> Scan(
      Transaction& tx, const std::optional<OcspCacheCursor>& after, int limit);

  // Deletes one row if it still holds the same response bytes (a row
  // re-signed meanwhile is kept). Returns whether it was deleted.
  static Result<bool> DeleteIfUnchanged(Transaction& tx, const OcspCacheRecord& answer);
};

}  // namespace certctl
