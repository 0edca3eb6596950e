// `ca status`: the CA generations of an issuer as an operator checks them
// (validity and time left, key file, what each generation still covers, its
// responder and CRL, its backup), and an unfinished CA rotation. JSON of the
// result: certctl/ops/ca_json.h. Read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/model/records.h"
#include "certctl/ops/op.h"

namespace certctl::ops {

// A CA rotation that was started and neither finished nor aborted (the
// rotation journal of `ca rotate`). Every `ca` command reports it.
struct UnfinishedRotation {
  int64_t id = 0;
  int from_generation = 0;
  std::optional<int> to_generation;  // once the new generation is registered
  std::string mode;                  // "generate", "import", "sub-ca"
  std::string step;                  // the last step recorded
  std::string state;                 // "running" or "awaiting-signature"
  TimePoint started_at;
  std::string started_by;
};

// How close a CA certificate's notAfter is.
enum class CaExpiry { kOk, kWarning, kCritical, kExpired };
std::string_view CaExpiryName(CaExpiry expiry);  // "ok", "warning", "critical", "expired"

// When time left becomes a warning and when critical (an error).
struct CaExpiryThresholds {
  std::chrono::seconds warning = std::chrono::hours(24 * 365);
  std::chrono::seconds critical = std::chrono::hours(24 * 90);
};
// config.ca_expiry_warning and config.ca_expiry_critical.
CaExpiryThresholds ExpiryThresholdsFrom(const Config& config);

// A CA key file as `ca status` inspects it.
struct CaKeyFile {
  std::string path;
  bool exists = false;
  std::optional<uint32_t> mode;  // permission bits, e.g. 0600
  std::optional<std::string> owner;
  std::optional<std::string> algorithm;  // once the key parsed
  bool matches_certificate = false;
  std::string problem;  // why it is not usable, for people; empty when it is
};

// The generation's current OCSP responder, in one word and its facts.
struct CaResponderState {
  // "ok", "missing", "expired", "wrong_issuer", "key_missing",
  // "key_unreadable", "key_mismatch", "key_mode".
  std::string verdict;
  std::optional<std::string> serial;
  std::optional<TimePoint> not_after;
};

// The generation's cached CRL, in one word and its facts.
struct CaCrlState {
  // A CrlVerdictName ("ok", "missing", "stale", ...), or "not_published" for
  // a generation that signs no CRL any more (retired, nothing unexpired).
  std::string verdict;
  std::optional<int64_t> crl_number;
  std::optional<TimePoint> next_update;
};

// The newest recorded backup holding this generation's certificate and key.
struct CaBackupRecord {
  int64_t id = 0;
  std::string directory;
  TimePoint created_at;
  std::string created_by;
};

struct CaGenerationStatus {
  int generation = 0;
  GenerationState state = GenerationState::kActive;
  std::string subject;
  std::string key_type;  // DescribeKey of the certificate's key, e.g. "ecdsa-p256"
  std::string serial;    // the CA certificate's, lowercase hex
  std::string fingerprint_sha256;
  TimePoint not_before;
  TimePoint not_after;
  std::chrono::seconds time_left{0};  // negative once expired
  CaExpiry expiry = CaExpiry::kOk;
  CaKeyFile key_file;
  int64_t unexpired_certificates = 0;  // issued by it, not expired (revoked or not)
  std::optional<TimePoint> last_certificate_expiry;  // of those
  bool can_be_archived = false;  // retired and every certificate it issued expired
  CaResponderState responder;
  CaCrlState crl;
  std::optional<CaBackupRecord> backup;  // unset: no backup of it recorded
};

struct IssuerCaStatus {
  std::string issuer;
  std::vector<CaGenerationStatus> generations;  // oldest first
  std::optional<UnfinishedRotation> unfinished_rotation;
};

struct CaStatus {
  CaExpiryThresholds thresholds;
  std::vector<IssuerCaStatus> issuers;
};

// `ca status [ISSUER|--all]`: every generation of `issuer` (every issuer
// when empty). Findings, per generation (subject "<issuer>/g<N>"):
//  - the active generation: less time left than thresholds.warning is a
//    warning ca.expiring, less than thresholds.critical an error
//    ca.expiring_critical, past notAfter an error ca.expired; a retired
//    generation that still covers unexpired certificates and whose
//    certificate has expired is ca.expired too;
//  - the active generation and every retired one that still covers
//    unexpired certificates (they still sign): key file missing
//    (ca.key_missing), unreadable (ca.key_unreadable), not the
//    certificate's key (ca.key_mismatch), readable by group or others
//    (ca.key_mode) are errors; no recorded backup of it is a warning
//    ca.backup_missing;
//  - the findings of `crl status` and `ocsp status` for the issuer (crl.*,
//    ocsp.*), as they report them;
//  - an unfinished rotation is an error ca.rotation_unfinished.
// A retired generation whose certificates have all expired can be archived
// (can_be_archived; no finding). InvalidArgument when thresholds.critical is
// longer than thresholds.warning or either is not positive; NotFound for an
// unknown issuer; Unavailable when the database is down.
Result<CaStatus> DescribeCa(OpContext& ctx, const std::string& issuer,
                            const CaExpiryThresholds& thresholds, OpReport& report);

}  // namespace certctl::ops
