#include "certctl/pki/keys.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "certctl/util/encoding.h"

namespace certctl {

std::string_view KeyAlgorithmName(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcdsaP256:
      return "ecdsa-p256";
    case KeyAlgorithm::kEcdsaP384:
      return "ecdsa-p384";
    case KeyAlgorithm::kRsa2048:
      return "rsa-2048";
    case KeyAlgorithm::kRsa3072:
      return "rsa-3072";
    case KeyAlgorithm::kRsa4096:
      return "rsa-4096";
    case KeyAlgorithm::kEd25519:
      return "ed25519";
  }
  return "unknown";
}

Result<KeyAlgorithm> ParseKeyAlgorithm(std::string_view name) {
  for (auto a :
       {KeyAlgorithm::kEcdsaP256, KeyAlgorithm::kEcdsaP384, KeyAlgorithm::kRsa2048,
        KeyAlgorithm::kRsa3072, KeyAlgorithm::kRsa4096, KeyAlgorithm::kEd25519}) {
    if (KeyAlgorithmName(a) == name) return a;
  }
  return Status::InvalidArgument("unknown key algorithm \"" + std::string(name) +
                                 "\": use ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, "
                                 "rsa-4096 or ed25519");
}

Result<UniquePtr<EVP_PKEY>> GenerateKey(KeyAlgorithm algorithm) {
  EVP_PKEY* key = nullptr;
  switch (algorithm) {
    case KeyAlgorithm::kEcdsaP256:
      key = EVP_EC_gen("P-256");
      break;
    case KeyAlgorithm::kEcdsaP384:
      key = EVP_EC_gen("P-384");
      break;
    case KeyAlgorithm::kRsa2048:
      key = EVP_RSA_gen(2048);
      break;
    case KeyAlgorithm::kRsa3072:
      key = EVP_RSA_gen(3072);
      break;
    case KeyAlgorithm::kRsa4096:
      key = EVP_RSA_gen(4096);
      break;
    case KeyAlgorithm::kEd25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (!key)
    return OpenSslError("generate " + std::string(KeyAlgorithmName(algorithm)) + " key");
  return UniquePtr<EVP_PKEY>(key);
}

Result<SecretString> PrivateKeyToPem(EVP_PKEY* key) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio) bio.reset(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    return OpenSslError("encode private key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  SecretString out(std::string(data, static_cast<size_t>(len)));
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return out;
}

Result<UniquePtr<EVP_PKEY>> ParsePrivateKeyPem(std::string_view pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError("BIO_new_mem_buf");
  UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return OpenSslError(StatusCode::kInvalidArgument, "parse private key PEM");
  return key;
}

Result<UniquePtr<EVP_PKEY>> LoadPrivateKeyFile(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(mode_t mode, FileMode(path));
  if ((mode & 0007) != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return Status::PermissionDenied("key file " + path.string() + " has mode " + buf +
                                    ", readable or writable by others; chmod 0600 it");
  }
  ASSIGN_OR_RETURN(std::string raw, ReadFile(path));
  SecretString pem(std::move(raw));
  auto key = ParsePrivateKeyPem(pem.view());
  if (!key.ok()) return key.status().WithContext(path.string());
  return key;
}

Status WritePrivateKeyFile(const std::filesystem::path& path, EVP_PKEY* key,
                           const WriteOptions& options, std::string* backup_out) {
  ASSIGN_OR_RETURN(SecretString pem, PrivateKeyToPem(key));
  WriteOptions o = options;
  o.mode = 0600;
  std::string backup;
  RETURN_IF_ERROR(WriteFileAtomic(path, pem.view(), o, &backup));
  // The backup keeps the old file's mode; an old key must not stay readable
  // by others either.
  if (!backup.empty() && ::chmod(backup.c_str(), 0600) != 0) {
    return Status::Internal("chmod 0600 the key backup " + backup + ": " +
                            std::strerror(errno));
  }
  if (backup_out) *backup_out = std::move(backup);
  return Status::Ok();
}

std::string DescribeKey(EVP_PKEY* key) {
  int id = EVP_PKEY_get_base_id(key);
  int bits = EVP_PKEY_get_bits(key);
  if (id == EVP_PKEY_EC) {
    char curve[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                       sizeof curve, &len) == 1) {
      std::string c(curve, len);
      if (c == "prime256v1" || c == "P-256") return "ecdsa-p256";
      if (c == "secp384r1" || c == "P-384") return "ecdsa-p384";
      if (c == "secp521r1" || c == "P-521") return "ecdsa-p521";
      return "ecdsa-" + c;
    }
    return "ecdsa " + std::to_string(bits);
  }
  if (id == EVP_PKEY_RSA) return "rsa-" + std::to_string(bits);
  if (id == EVP_PKEY_ED25519) return "ed25519";
  const char* name = OBJ_nid2sn(id);
  return std::string(name ? name : "unknown") + " " + std::to_string(bits);
}

const EVP_MD* SigningDigest(EVP_PKEY* key) {
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) return nullptr;
  if (id == EVP_PKEY_EC && EVP_PKEY_get_bits(key) >= 384) return EVP_sha384();
  return EVP_sha256();
}

bool SamePublicKey(EVP_PKEY* a, EVP_PKEY* b) { return EVP_PKEY_eq(a, b) == 1; }

}  // namespace certctl
