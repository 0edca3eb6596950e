// The CRL distribution points of a certificate (RFC 5280 §4.2.1.13): where
// a relying party fetches the CRL that covers it.
#pragma once

#include <string>
#include <vector>

#include "certctl/pki/ossl.h"

namespace certctl {

// The URIs of `cert`'s distribution points (full names only), in order;
// empty when it has none.
std::vector<std::string> CrlDistributionUris(X509* cert);

}  // namespace certctl
