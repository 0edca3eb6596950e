// Certificate authorities: loading, validating and creating CA material.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/pki/keys.h"
#include "certctl/pki/ossl.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl {

// A CA certificate with its private key. Move-only; the key is wiped on free.
struct CaMaterial {
  UniquePtr<X509> cert;
  UniquePtr<EVP_PKEY> key;
};

// Checks everything a CA must satisfy before certctl signs with it, in this
// order, returning FailedPrecondition with the first reason found:
//   basicConstraints CA:TRUE; keyUsage present with keyCertSign and cRLSign;
//   the private key matches the certificate; now within notBefore..notAfter.
Status ValidateCa(X509* cert, EVP_PKEY* key, TimePoint now);

// Reads both files and validates them (see ValidateCa, LoadPrivateKeyFile).
// The error names the file or the reason.
Result<CaMaterial> LoadCa(const std::filesystem::path& cert_path,
                          const std::filesystem::path& key_path, TimePoint now);

struct NewCaOptions {
  std::string common_name = "certctl Local CA";
  std::string organization = "certctl";
  KeyAlgorithm algorithm = KeyAlgorithm::kEcdsaP256;
  std::chrono::seconds validity = std::chrono::hours(24 * 3650);  // 10 years
};

// A self-signed root: CA:TRUE (critical), keyUsage keyCertSign, cRLSign,
// digitalSignature (critical), subject key identifier; notBefore one minute in
// the past to tolerate clock skew.
Result<CaMaterial> CreateSelfSignedCa(const NewCaOptions& options, TimePoint now);

// A distinguished name written as SubjectOf prints one (RFC 4514, most
// specific RDN first): "CN=certctl Local CA G2,O=certctl". Attribute types
// C, ST, L, O, OU, CN, serialNumber and DC (case-insensitive); a value may
// escape ',', '+', '=', '\\', '"', '<', '>', ';' and '#' with a backslash;
// multi-valued RDNs are refused. Each value is checked as CheckSubjectValue
// checks a CSR's. InvalidArgument naming what is wrong.
Result<UniquePtr<X509_NAME>> ParseDistinguishedName(std::string_view text);

// A self-signed CA certificate for `key`: basicConstraints CA:TRUE and
// keyUsage keyCertSign, cRLSign, both critical, a subject key identifier,
// notBefore one minute before `now`, notAfter `now` + `validity`.
Result<UniquePtr<X509>> SelfSignCaCertificate(EVP_PKEY* key, const X509_NAME* subject,
                                              TimePoint now,
                                              std::chrono::seconds validity);

// A PEM CSR for a subordinate CA with `key` and `subject`, requesting
// basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign (both critical).
Result<std::string> MakeCaCsrPem(EVP_PKEY* key, const X509_NAME* subject);

// Checks that `cert` verifies, at `now`, through `issuers` (in any order):
// its self-signed members are the trust anchors and the others
// intermediates; when none is self-signed, all of them are trusted (a
// partial chain). With `issuers` empty, `cert` must be self-signed.
// InvalidArgument with OpenSSL's reason otherwise.
Status VerifyChain(X509* cert, const std::vector<X509*>& issuers, TimePoint now);

// Writes the certificate (0644) and key (0600) atomically. Refuses to replace
// an existing file unless `allow_overwrite`, in which case the old one is kept
// as a backup.
Status WriteCaFiles(const CaMaterial& ca, const std::filesystem::path& cert_path,
                    const std::filesystem::path& key_path, bool allow_overwrite = false);

}  // namespace certctl
