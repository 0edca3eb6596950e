#include "certctl/pki/crl_distribution.h"

#include <openssl/x509v3.h>

namespace certctl {

std::vector<std::string> CrlDistributionUris(X509* cert) {
  std::vector<std::string> out;
  UniquePtr<CRL_DIST_POINTS> points(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr)));
  if (!points) return out;
  for (int i = 0; i < sk_DIST_POINT_num(points.get()); ++i) {
    DIST_POINT* point = sk_DIST_POINT_value(points.get(), i);        // borrowed
    if (!point->distpoint || point->distpoint->type != 0) continue;  // not a full name
    GENERAL_NAMES* names = point->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      GENERAL_NAME* name = sk_GENERAL_NAME_value(names, j);
      if (name->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                       static_cast<size_t>(ASN1_STRING_length(uri)));
    }
  }
  return out;
}

}  // namespace certctl
