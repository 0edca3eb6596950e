// Private keys: generation, PEM encoding, key files.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "certctl/pki/ossl.h"
#include "certctl/util/files.h"
#include "certctl/util/secret.h"
#include "certctl/util/status.h"

namespace certctl {

enum class KeyAlgorithm {
  kEcdsaP256,
  kEcdsaP384,
  kRsa2048,
  kRsa3072,
  kRsa4096,
  kEd25519
};

// "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519".
std::string_view KeyAlgorithmName(KeyAlgorithm algorithm);
Result<KeyAlgorithm> ParseKeyAlgorithm(std::string_view name);

Result<UniquePtr<EVP_PKEY>> GenerateKey(KeyAlgorithm algorithm);

// PKCS#8 PEM, unencrypted; the buffer is wiped when the SecretString dies.
Result<SecretString> PrivateKeyToPem(EVP_PKEY* key);
Result<UniquePtr<EVP_PKEY>> ParsePrivateKeyPem(std::string_view pem);

// Reads and parses a key file. Refuses a file readable or writable by others
// (mode & 0007) with PermissionDenied naming the mode.
Result<UniquePtr<EVP_PKEY>> LoadPrivateKeyFile(const std::filesystem::path& path);

// Writes the key atomically with mode 0600 (see WriteFileAtomic); an existing
// file is kept as a backup, also mode 0600, unless options say otherwise.
Status WritePrivateKeyFile(const std::filesystem::path& path, EVP_PKEY* key,
                           const WriteOptions& options = {},
                           std::string* backup_out = nullptr);

// "ecdsa-p256", "rsa-3072", "ed25519", or "<type> <bits>" for anything else.
std::string DescribeKey(EVP_PKEY* key);

// The digest to sign with for this key: SHA-384 for P-384, none (nullptr) for
// Ed25519, SHA-256 otherwise.
const EVP_MD* SigningDigest(EVP_PKEY* key);

// Whether two keys are the same key pair (compares public parts).
bool SamePublicKey(EVP_PKEY* a, EVP_PKEY* b);

}  // namespace certctl
