// The OCSP answering path's statements: what one answer needs from the
// database in a single read, and the batched write-back of signed answers.
// Both are meant for Database::RunStatement (one statement, no BEGIN/COMMIT).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/store/database.h"
#include "certctl/util/clock.h"
#include "store/ocsp_repo.h"

namespace certctl {

// One serial of one issuer, as an OCSP answer needs it.
struct OcspAnswerInputs {
  int64_t revocation_epoch = 0;               // the issuer's, read with the rest
  std::optional<int> certificate_generation;  // unset: the issuer never issued it
  std::optional<int> revocation_reason;       // set when revoked
  TimePoint revoked_at;
  // The current responder row of the generation that answers (the
  // certificate's own when it is among `candidates`, else the first
  // candidate); unset when there is none.
  std::optional<std::string> responder_serial;
  TimePoint responder_not_after;
  std::optional<OcspCacheRecord> cached;  // the stored answer for the CertID's hash
};

class OcspAnswerRepo {
 public:
  // One statement. `candidates`: the generations whose CA matches the CertID
  // (not empty); `cert_id_hash` "" reads no stored answer. nullopt when the
  // issuer does not exist.
  static Result<std::optional<OcspAnswerInputs>> Read(Transaction& tx,
                                                      const std::string& issuer,
                                                      const std::string& serial,
                                                      const std::string& cert_id_hash,
                                                      const std::vector<int>& candidates);

  // OcspCacheRepo::PutIfEpochUnchanged for many rows in one statement: each
  // row is written only if its issuer's revocation_epoch still equals the
  // row's, checked under a share lock on the issuer rows. Rows must have
  // distinct keys (issuer, serial, hash). Returns, per row, whether it was
  // written.
  static Result<std::vector<bool>> PutBatchIfEpochUnchanged(
      Transaction& tx, const std::vector<OcspCacheRecord>& rows);
};

}  // namespace certctl
