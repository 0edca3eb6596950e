// The key-check value of CERTCTL_CONFIG_ENCRYPTION_KEY (table
// config_encryption_key_check, migration 0001): proof that a key is the one
// the database was set up with, without the key. The value is
// HMAC-SHA256(key, "certctl key check" || salt) with a random 16-byte salt;
// the key itself is never stored or logged.
//
// `db migrate` records it the first time it runs with the key configured;
// `db restore-check` opens it with the key at hand.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "certctl/config/config.h"
#include "certctl/ops/op.h"
#include "store/restore_check_repo.h"

namespace certctl::ops::internal {

inline constexpr char kKeyCheckAlgorithm[] = "hmac-sha256";

enum class KeyCheckOutcome {
  kOpens,          // the key at hand is the database's
  kWrongKey,       // a value is recorded and this key does not open it
  kNoKey,          // a value is recorded and no key is configured
  kNoValue,        // nothing recorded (a database older than the check)
  kUnknownScheme,  // a value recorded by a newer certctl
};
std::string_view KeyCheckOutcomeName(KeyCheckOutcome outcome);  // "opens", ...

// HMAC-SHA256(key, "certctl key check" || salt), 32 raw bytes.
Result<std::string> KeyCheckValue(std::string_view key, std::string_view salt);

// Compares in constant time.
Result<KeyCheckOutcome> CheckEncryptionKey(const std::optional<ConfigKeyCheckRow>& row,
                                           const SecretString& key);

// `db migrate`: records the check value of config.config_encryption_key when
// the key is set and the database has none (a step in `report`); when one is
// recorded and the key does not open it, a warning finding
// "config.encryption_key_mismatch". Nothing when no key is configured.
Status RecordEncryptionKeyCheck(Database& db, const Config& config, OpReport& report);

}  // namespace certctl::ops::internal
