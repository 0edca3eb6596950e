// Certificate signing requests (PKCS#10).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "certctl/pki/ossl.h"
#include "certctl/util/status.h"

namespace certctl {

struct Csr {
  UniquePtr<X509_REQ> request;
  std::string subject;      // RFC 2253
  std::string common_name;  // empty when the subject has no CN
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::vector<std::string> email_addresses;
  std::string key_description;  // as DescribeKey
  EVP_PKEY* public_key() const { return X509_REQ_get0_pubkey(request.get()); }
};

// Parses a PEM CSR and checks it: the self-signature verifies, the key is
// acceptable (ECDSA P-256/P-384/P-521, RSA 2048-8192, Ed25519), SANs are DNS,
// IP or e-mail names. Each refusal is InvalidArgument with the reason.
Result<Csr> ParseCsrPem(std::string_view pem);

// Builds a CSR for `key` with a CN and DNS names (tests, demos and server-side
// key generation).
Result<std::string> MakeCsrPem(EVP_PKEY* key, const std::string& common_name,
                               const std::vector<std::string>& dns_names);

}  // namespace certctl
