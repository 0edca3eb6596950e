// X.509 certificates: parsing, encoding, inspection and issuing.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/pki/ossl.h"
#include "certctl/pki/serial.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl {

Result<UniquePtr<X509>> ParseCertificatePem(std::string_view pem);
Result<UniquePtr<X509>> ParseCertificateDer(std::string_view der);
Result<UniquePtr<X509>> LoadCertificateFile(const std::filesystem::path& path);

// Every certificate of a PEM bundle, in order. Refuses an empty bundle and any
// PEM block or text that is not a certificate, naming the position.
Result<std::vector<UniquePtr<X509>>> ParseCertificateBundlePem(std::string_view pem);

std::string CertificateToPem(X509* cert);
std::string CertificateToDer(X509* cert);

// RFC 2253 one-line form: "CN=certctl Local CA,O=certctl".
std::string NameToString(const X509_NAME* name);
std::string SubjectOf(X509* cert);
std::string IssuerOf(X509* cert);

Result<TimePoint> Asn1TimeToTimePoint(const ASN1_TIME* t);
TimePoint NotBefore(X509* cert);
TimePoint NotAfter(X509* cert);

// Lowercase hex SHA-256 of the DER encoding.
std::string FingerprintSha256(X509* cert);
// The Subject Key Identifier bytes, or empty when absent.
std::string SubjectKeyId(X509* cert);

struct IssueRequest {
  // Subject DN. Either given as name entries or taken whole from a CSR.
  std::string common_name;
  std::string organization;            // optional
  const X509_NAME* subject = nullptr;  // when set, used instead of CN/O (borrowed)
  EVP_PKEY* public_key = nullptr;      // the subject's key (borrowed)
  TimePoint not_before;
  TimePoint not_after;

  bool is_ca = false;
  std::optional<int> path_length;  // only with is_ca
  // OpenSSL config syntax, e.g. "digitalSignature,keyEncipherment"; always critical.
  std::string key_usage;
  // e.g. "serverAuth,clientAuth" or "OCSPSigning"; empty for none.
  std::string extended_key_usage;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::vector<std::string> email_addresses;
  std::string crl_distribution_url;  // empty: no CDP
  // Authority Information Access: OCSP and caIssuers (RFC 5280 §4.2.2.1, a
  // URL serving the issuer's certificate as DER); no AIA when both are empty.
  std::string ocsp_url;
  std::string ca_issuers_url;
  bool ocsp_nocheck = false;  // id-pkix-ocsp-nocheck (responder certificates)
};

// Builds and signs a certificate. With `issuer_cert` null the certificate is
// self-signed by `issuer_key` (which must then be the subject key). A
// subjectAltName is critical when the subject is empty (RFC 5280 §4.2.1.6).
// common_name and organization must pass CheckText (no NUL, no control
// characters).
Result<UniquePtr<X509>> IssueCertificate(const IssueRequest& request,
                                         const Serial& serial, X509* issuer_cert,
                                         EVP_PKEY* issuer_key);

// Checks `cert`'s signature with `issuer`'s public key.
bool SignedBy(X509* cert, X509* issuer);

}  // namespace certctl
