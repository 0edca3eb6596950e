// The audit key: what makes the audit chain unforgeable by someone who can
// only write to the database.
//
// The operator configures a secret, `audit_key` (CERTCTL_AUDIT_KEY) or
// `audit_key_file` (CERTCTL_AUDIT_KEY_FILE), of at least 32 characters, e.g.
// `openssl rand -hex 32`. It lives with the other operator-managed secrets,
// never in the database. The MAC key is HKDF-SHA256(secret, info "certctl
// audit chain v1"): the configured string never keys HMAC directly. The key
// id, an HMAC of a fixed label, names the key in every row without revealing
// it; it is how `audit verify` tells a wrong key from tampering.
//
// Thread safety: an AuditKey is immutable; Mac() may be called from any thread.
#pragma once

#include <string>
#include <string_view>

#include "certctl/config/config.h"
#include "certctl/util/secret.h"
#include "certctl/util/status.h"

namespace certctl::audit {

inline constexpr size_t kMinAuditSecretLength = 32;

class AuditKey {
 public:
  // InvalidArgument when `secret` is shorter than kMinAuditSecretLength.
  static Result<AuditKey> Derive(std::string_view secret);
  // From config.audit_key: Configuration, naming the setting and how to create
  // one, when it is unset.
  static Result<AuditKey> FromConfig(const Config& config);

  // 16 lowercase hex digits; stored in every row, safe to show.
  const std::string& id() const { return id_; }
  // HMAC-SHA256 of `message`, 32 raw bytes.
  Result<std::string> Mac(std::string_view message) const;

 private:
  AuditKey(SecretString key, std::string id) : key_(std::move(key)), id_(std::move(id)) {}
  SecretString key_;
  std::string id_;
};

}  // namespace certctl::audit
