#include "certctl/ops/cache_json.h"

namespace certctl::ops {

nlohmann::json ToJson(const CacheRowCounts& c) {
  return {{"crl_rows", c.crl_rows}, {"ocsp_rows", c.ocsp_rows}};
}

nlohmann::json ToJson(const CachesTruncated& r) {
  return {{"crl_rows_deleted", r.crl_rows_deleted},
          {"ocsp_rows_deleted", r.ocsp_rows_deleted}};
}

nlohmann::json ToJson(const OcspCacheRows& r) {
  nlohmann::json j = {{"ocsp_rows", r.ocsp_rows}};
  if (r.bad) j["bad"] = *r.bad;
  return j;
}

nlohmann::json ToJson(const OcspCacheVerified& r) {
  return {{"scanned", r.scanned}, {"bad", r.bad}, {"fixed", r.fixed}};
}

}  // namespace certctl::ops
