// Cache invalidation: dropping cached OCSP answers and telling every running
// certctld (over PostgreSQL LISTEN/NOTIFY) to drop its in-memory copies.
//
// The notification is sent with pg_notify inside the caller's transaction, so
// listeners hear of it exactly when (and only if) the change commits.
#pragma once

#include <string>
#include <string_view>

#include "certctl/model/invalidation.h"
#include "certctl/store/database.h"

namespace certctl {

class InvalidationRepo {
 public:
  // Deletes cached OCSP answers (one serial, one issuer, or all when both
  // are empty); returns how many rows went.
  static Result<int64_t> DropOcspAnswers(Transaction& tx, const std::string& issuer,
                                         const std::string& serial);
  // Deletes cached CRLs of an issuer (all issuers when empty); returns how
  // many rows went.
  static Result<int64_t> DropCrls(Transaction& tx, const std::string& issuer);
  // How many rows DropOcspAnswers / DropCrls would delete (same filters).
  static Result<int64_t> CountOcspAnswers(Transaction& tx, const std::string& issuer,
                                          const std::string& serial);
  static Result<int64_t> CountCrls(Transaction& tx, const std::string& issuer);
  // Queues the notification for commit.
  static Status Notify(Transaction& tx, const Invalidation& what);
};

}  // namespace certctl
