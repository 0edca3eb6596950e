#include "store/invalidation.h"

#include <nlohmann/json.hpp>

#include "store/pg.h"

namespace certctl {

Result<int64_t> InvalidationRepo::DropOcspAnswers(Transaction& tx,
                                                  const std::string& issuer,
                                                  const std::string& serial) {
  return GuardValue<int64_t>("drop cached OCSP answers", [&] {
    auto r = tx.Exec("ocsp_cache_drop",
                     "DELETE FROM ocsp_response_cache WHERE ($1 = '' OR issuer_id = $1) "
                     "AND ($2 = '' OR serial = $2)",
                     issuer, serial);
    return static_cast<int64_t>(r.affected_rows());
  });
}

Result<int64_t> InvalidationRepo::DropCrls(Transaction& tx, const std::string& issuer) {
  return GuardValue<int64_t>("drop cached CRLs", [&] {
    auto r = tx.Exec("crl_cache_drop",
                     "DELETE FROM crl_cache WHERE ($1 = '' OR issuer_id = $1)", issuer);
    return static_cast<int64_t>(r.affected_rows());
  });
}

Result<int64_t> InvalidationRepo::CountOcspAnswers(Transaction& tx,
                                                   const std::string& issuer,
                                                   const std::string& serial) {
  return GuardValue<int64_t>("count cached OCSP answers", [&] {
    auto r = tx.Exec(
        "invalidation_ocsp_count",
        "SELECT count(*) FROM ocsp_response_cache WHERE ($1 = '' OR issuer_id = $1) "
        "AND ($2 = '' OR serial = $2)",
        issuer, serial);
    return r[0][0].as<int64_t>();
  });
}

Result<int64_t> InvalidationRepo::CountCrls(Transaction& tx, const std::string& issuer) {
  return GuardValue<int64_t>("count cached CRLs", [&] {
    auto r = tx.Exec("invalidation_crl_count",
                     "SELECT count(*) FROM crl_cache WHERE ($1 = '' OR issuer_id = $1)",
                     issuer);
    return r[0][0].as<int64_t>();
  });
}

Status InvalidationRepo::Notify(Transaction& tx, const Invalidation& what) {
  return Guard("notify invalidation", [&] {
    tx.Exec("invalidation_notify", "SELECT pg_notify($1, $2)", kInvalidationChannel,
            what.ToPayload());
    return Status::Ok();
  });
}

}  // namespace certctl
