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
  // The subject as it will be issued: checked and re-encoded (CheckSubject).
  UniquePtr<X509_NAME> subject_name;
  std::string subject;      // RFC 2253 form of subject_name
  std::string common_name;  // UTF-8; empty when the subject has no CN
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::vector<std::string> email_addresses;
  std::string key_description;  // as DescribeKey
  EVP_PKEY* public_key() const { return X509_REQ_get0_pubkey(request.get()); }
};

struct CsrLimits {
  int max_sans = 100;  // subjectAltName entries (config certificate_max_sans)
};

// Parses a PEM CSR and checks everything a client controls, each refusal
// InvalidArgument with the reason:
//  - the key: ECDSA on a named curve P-256, P-384 or P-521 (explicit curve
//    parameters are refused), RSA of 2048 to 8192 bits in whole octets with
//    an odd public exponent of at least 65537, or Ed25519; it passes
//    OpenSSL's public key check;
//  - the self-signature verifies;
//  - the subject, with CheckSubject (name_checks.h);
//  - one subjectAltName extension at most, with 1 to limits.max_sans names,
//    each a DNS name (CheckDnsName), an IPv4 or IPv6 address or an e-mail
//    address (CheckEmailAddress).
Result<Csr> ParseCsrPem(std::string_view pem, const CsrLimits& limits = {});

// InvalidArgument when `count` subjectAltName entries exceed `max`.
Status CheckSanCount(size_t count, int max);

// Builds a CSR for `key` with a CN and DNS names (tests, demos and server-side
// key generation). The names are copied as given, NUL bytes included, so
// that ParseCsrPem judges exactly what the caller sent.
Result<std::string> MakeCsrPem(EVP_PKEY* key, const std::string& common_name,
                               const std::vector<std::string>& dns_names);

}  // namespace certctl
