#include "certctl/audit/audit_key.h"

#include <openssl/core_names.h>
#include <openssl/hmac.h>

#include "certctl/pki/ossl.h"
#include "certctl/util/encoding.h"

namespace certctl::audit {
namespace {

constexpr char kHkdfInfo[] = "certctl audit chain v1";
constexpr char kKeyIdLabel[] = "certctl audit key id";
constexpr size_t kKeyLength = 32;

Result<std::string> Hkdf(std::string_view secret) {
  UniquePtr<EVP_KDF> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return OpenSslError("fetch HKDF");
  UniquePtr<EVP_KDF_CTX> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return OpenSslError("new HKDF context");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                        const_cast<char*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(kHkdfInfo),
                                        sizeof(kHkdfInfo) - 1),
      OSSL_PARAM_construct_end()};
  std::string out(kKeyLength, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     params) != 1) {
    Cleanse(out);
    return OpenSslError("derive the audit key");
  }
  return out;
}

Result<std::string> HmacSha256(std::string_view key, std::string_view message) {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(),
           reinterpret_cast<unsigned char*>(out.data()), &length) == nullptr) {
    return OpenSslError("HMAC-SHA256");
  }
  out.resize(length);
  return out;
}

}  // namespace

Result<AuditKey> AuditKey::Derive(std::string_view secret) {
  if (secret.size() < kMinAuditSecretLength) {
    return Status::InvalidArgument("the audit key must be at least " +
                                   std::to_string(kMinAuditSecretLength) +
                                   " characters (e.g. `openssl rand -hex 32`)");
  }
  ASSIGN_OR_RETURN(std::string key, Hkdf(secret));
  auto id = HmacSha256(key, kKeyIdLabel);
  if (!id.ok()) {
    Cleanse(key);
    return id.status();
  }
  return AuditKey(SecretString(std::move(key)), HexEncode(id->substr(0, 8)));
}

Result<AuditKey> AuditKey::FromConfig(const Config& config) {
  if (config.audit_key.empty()) {
    return Status::Configuration(
        "no audit key: audit_key (CERTCTL_AUDIT_KEY, or a file named by "
        "audit_key_file / CERTCTL_AUDIT_KEY_FILE) is not set. certctl signs every "
        "audit event with it; every certctld and certctl-admin that writes or "
        "verifies the log needs the same key. Create one with "
        "`openssl rand -hex 32 > /etc/certctl/audit.key` (mode 0600) and keep a copy "
        "with the CA key");
  }
  auto key = Derive(config.audit_key.view());
  if (!key.ok()) return Status::Configuration("audit_key: " + key.status().message());
  return key;
}

Result<std::string> AuditKey::Mac(std::string_view message) const {
  return HmacSha256(key_.view(), message);
}

}  // namespace certctl::audit
