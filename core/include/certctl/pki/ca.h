// Certificate authorities: loading, validating and creating CA material.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

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

// Writes the certificate (0644) and key (0600) atomically. Refuses to replace
// an existing file unless `allow_overwrite`, in which case the old one is kept
// as a backup.
Status WriteCaFiles(const CaMaterial& ca, const std::filesystem::path& cert_path,
                    const std::filesystem::path& key_path, bool allow_overwrite = false);

}  // namespace certctl
