#include "ops/config_key_check.h"

#include <openssl/hmac.h>

#include "certctl/pki/ossl.h"
#include "certctl/util/encoding.h"

namespace certctl::ops::internal {
namespace {

constexpr char kLabel[] = "certctl key check";
constexpr size_t kSaltLength = 16;

}  // namespace

std::string_view KeyCheckOutcomeName(KeyCheckOutcome outcome) {
  switch (outcome) {
    case KeyCheckOutcome::kOpens:
      return "opens";
    case KeyCheckOutcome::kWrongKey:
      return "wrong-key";
    case KeyCheckOutcome::kNoKey:
      return "no-key";
    case KeyCheckOutcome::kNoValue:
      return "no-check-value";
    case KeyCheckOutcome::kUnknownScheme:
      return "unknown-scheme";
  }
  return "unknown";
}

Result<std::string> KeyCheckValue(std::string_view key, std::string_view salt) {
  std::string message = std::string(kLabel) + std::string(salt);
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(),
           reinterpret_cast<unsigned char*>(out.data()), &length) == nullptr) {
    return OpenSslError("HMAC-SHA256 of the key check");
  }
  out.resize(length);
  return out;
}

Result<KeyCheckOutcome> CheckEncryptionKey(const std::optional<ConfigKeyCheckRow>& row,
                                           const SecretString& key) {
  if (!row) return KeyCheckOutcome::kNoValue;
  if (row->algorithm != kKeyCheckAlgorithm) return KeyCheckOutcome::kUnknownScheme;
  if (key.empty()) return KeyCheckOutcome::kNoKey;
  ASSIGN_OR_RETURN(std::string value, KeyCheckValue(key.view(), row->salt));
  return ConstantTimeEquals(value, row->check_value) ? KeyCheckOutcome::kOpens
                                                     : KeyCheckOutcome::kWrongKey;
}

Status RecordEncryptionKeyCheck(Database& db, const Config& config, OpReport& report) {
  const SecretString& key = config.config_encryption_key;
  if (key.empty()) return Status::Ok();
  return db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto row, RestoreCheckRepo::FindKeyCheck(tx));
    if (row) {
      ASSIGN_OR_RETURN(KeyCheckOutcome outcome, CheckEncryptionKey(row, key));
      if (outcome == KeyCheckOutcome::kWrongKey) {
        report.AddFinding("warning", "config.encryption_key_mismatch",
                          "config_encryption_key",
                          "CERTCTL_CONFIG_ENCRYPTION_KEY is not the key this database "
                          "was set up with (its key-check value does not open with it)");
      }
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(std::string salt, RandomBytes(kSaltLength));
    ASSIGN_OR_RETURN(std::string value, KeyCheckValue(key.view(), salt));
    ASSIGN_OR_RETURN(bool recorded, RestoreCheckRepo::InsertKeyCheck(
                                        tx, {kKeyCheckAlgorithm, salt, value}));
    if (recorded) {
      report.steps.push_back(
          "recorded the key-check value of CERTCTL_CONFIG_ENCRYPTION_KEY");
    }
    return Status::Ok();
  });
}

}  // namespace certctl::ops::internal
