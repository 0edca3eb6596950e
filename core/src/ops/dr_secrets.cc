// The secrets' ages without the secrets: a salted PBKDF2-HMAC-SHA256
// fingerprint of each configured secret, carried in the dr.check audit event
// from run to run with the date it was first seen (see certctl/ops/dr_check.h).
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "certctl/util/encoding.h"
#include "certctl/util/time_format.h"
#include "ops/dr_check_internal.h"

namespace certctl::ops::internal {
namespace {

// Slow enough that a fingerprint read from the audit log does not give away
// a short bootstrap token to a dictionary, fast enough for a cron job with a
// few secrets.
constexpr int kIterations = 100000;
constexpr size_t kSaltBytes = 16;

std::string Fingerprint(std::string_view secret, const std::string& salt) {
  unsigned char out[32];
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), kIterations, EVP_sha256(),
                        sizeof out, out) != 1) {
    return "";
  }
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

std::string NewSalt() {
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), kSaltBytes) != 1) {
    return "";
  }
  return salt;
}

// This run's record of one secret, from the previous run's (or null).
nlohmann::json Record(std::string_view secret, const nlohmann::json& previous,
                      TimePoint now) {
  if (previous.is_object() && previous.value("salt", "").size() == 2 * kSaltBytes) {
    auto salt = HexDecode(previous.value("salt", ""));
    std::string expected = previous.value("fingerprint", "");
    std::string seen = salt.ok() ? Fingerprint(secret, *salt) : "";
    if (!seen.empty() && seen.size() == expected.size() &&
        CRYPTO_memcmp(seen.data(), expected.data(), seen.size()) == 0) {
      return previous;  // unchanged: first_seen and change_seen carry over
    }
  }
  std::string salt = NewSalt();
  return {{"salt", HexEncode(salt)},
          {"fingerprint", Fingerprint(secret, salt)},
          {"first_seen", FormatRfc3339(now)},
          // A different fingerprint before this one: the secret changed now.
          {"change_seen", previous.is_object()}};
}

// One secret's status from its record.
DrCheckResult Judge(DrInputs& in, const std::string& what, const nlohmann::json& r,
                    const std::string& fix) {
  auto first_seen = ParseRfc3339(r.value("first_seen", ""));
  if (!first_seen.ok()) {
    return Outcome(DrStatus::kUnknown, what + ": no usable record", fix);
  }
  auto age = std::chrono::duration_cast<std::chrono::seconds>(in.now - *first_seen);
  std::string date = r.value("first_seen", "");
  if (r.value("change_seen", false)) {
    std::string message = what + " changed on " + date + " (" + Age(age) + " ago)";
    if (age > in.t.secret_critical) return Outcome(DrStatus::kCritical, message, fix);
    if (age > in.t.secret_warning) return Outcome(DrStatus::kWarning, message, fix);
    return Outcome(DrStatus::kOk, message);
  }
  if (age > in.t.secret_critical) {
    return Outcome(DrStatus::kCritical,
                   what + " unchanged since it was first recorded on " + date + " (" +
                       Age(age) + " ago)",
                   fix);
  }
  return Outcome(DrStatus::kUnknown,
                 what + " first recorded on " + date +
                     "; certctl cannot tell when it was set before that",
                 fix);
}

}  // namespace

void FingerprintSecrets(DrInputs& in, const nlohmann::json& previous) {
  auto before = [&](const std::string& name) -> nlohmann::json {
    if (previous.is_object() && previous.contains(name)) return previous[name];
    return nullptr;
  };
  for (const auto& key : in.ctx.config.api_keys) {
    std::string name = "api_key:" + key.name;
    // The configuration holds a named key's digest only; its fingerprint
    // changes exactly when the key does.
    in.secrets[name] = Record(key.key_sha256, before(name), in.now);
  }
  if (!in.ctx.config.agent_bootstrap_token.empty()) {
    in.secrets["agent_bootstrap_token"] =
        Record(in.ctx.config.agent_bootstrap_token.view(),
               before("agent_bootstrap_token"), in.now);
  }
}

DrCheckResult CheckApiKeys(DrInputs& in) {
  const std::string fix =
      "issue a new API key, configure it (CERTCTL_API_KEY or api_keys), restart "
      "certctld, retire the old one";
  if (in.ctx.config.api_keys.empty()) {
    return Outcome(DrStatus::kOk, "no API key is configured");
  }
  DrCheckResult worst = Outcome(DrStatus::kOk, "");
  std::string messages;
  for (const auto& key : in.ctx.config.api_keys) {
    DrCheckResult r =
        Judge(in, "API key " + key.name, in.secrets["api_key:" + key.name], fix);
    worst.status = Worse(worst.status, r.status);
    messages += (messages.empty() ? "" : "; ") + r.message;
  }
  return Outcome(worst.status, messages, fix);
}

DrCheckResult CheckBootstrapToken(DrInputs& in) {
  if (!in.secrets.contains("agent_bootstrap_token")) {
    return Outcome(DrStatus::kOk, "no agent bootstrap token is configured");
  }
  return Judge(in, "the agent bootstrap token", in.secrets["agent_bootstrap_token"],
               "set a new CERTCTL_AGENT_BOOTSTRAP_TOKEN in your secret manager and "
               "restart certctld");
}

}  // namespace certctl::ops::internal
