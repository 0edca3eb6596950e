// `certctl-admin dr check`: the runbook's DR checklist
// (shared/runbook/disaster-recovery.md, "DR checklist") as named checks that a
// cron job or a node_exporter textfile collector can run. JSON of the result:
// certctl/ops/dr_json.h.
//
// Each check says ok, warning, critical or unknown (it could not tell: no
// backup directory given, a backup directory not readable here, pg_restore
// missing, a secret first recorded less than a year ago), with a message and
// the command that fixes it. The checks of a profile are the checklist's
// section: daily ("Backups" and what serving needs every day), quarterly,
// annual; `all` runs every one. Thresholds have defaults (DrThresholds) that a
// YAML file overrides (LoadDrThresholds).
//
// Secrets (the API keys and the agent bootstrap token) are never stored: each
// run records, in its dr.check audit event, a salted PBKDF2-HMAC-SHA256
// fingerprint of each configured secret with the date it was first seen
// (carried from the previous run while the secret is unchanged). A secret is
// known to have changed on a date only when a run saw a different fingerprint
// before it; until then its age is unknown, and critical once it has been
// seen unchanged for longer than the threshold.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "certctl/ops/op.h"

namespace certctl::ops {

enum class DrStatus { kOk, kWarning, kCritical, kUnknown };
std::string_view DrStatusName(DrStatus status);  // "ok", "warning", "critical", "unknown"
// The Prometheus gauge value: 0 ok, 1 warning, 2 critical, 3 unknown.
int DrStatusValue(DrStatus status);

enum class DrProfile { kDaily, kQuarterly, kAnnual, kAll };
std::string_view DrProfileName(DrProfile profile);        // "daily", ..., "all"
Result<DrProfile> ParseDrProfile(std::string_view name);  // InvalidArgument

// Every default as the checklist says; a YAML file overrides any of them
// (keys as the members' names, durations as "26h", "30d").
struct DrThresholds {
  // Where the database backups (pg_dump archives: *.dump, *.pgdump, *.backup,
  // *.tar, *.sql, *.sql.gz files, or directory-format dumps holding toc.dat)
  // are; --backup-dir overrides it. Empty: the backup checks say unknown.
  std::string backup_dir;
  std::chrono::seconds database_backup_warning = std::chrono::hours(26);
  std::chrono::seconds database_backup_critical = std::chrono::hours(50);
  std::chrono::seconds database_backup_retention = std::chrono::hours(24 * 30);
  std::chrono::seconds ca_not_after_warning = std::chrono::hours(24 * 365);
  std::chrono::seconds ca_not_after_critical = std::chrono::hours(24 * 90);
  std::chrono::seconds responder_rotation_warning = std::chrono::hours(24 * 92);
  std::chrono::seconds responder_rotation_critical = std::chrono::hours(24 * 184);
  std::chrono::seconds responder_expiry_warning = std::chrono::hours(24 * 14);
  std::chrono::seconds responder_expiry_critical = std::chrono::hours(24 * 7);
  std::chrono::seconds restore_check_warning = std::chrono::hours(24 * 92);
  std::chrono::seconds restore_check_critical = std::chrono::hours(24 * 122);
  std::chrono::seconds drill_warning = std::chrono::hours(24 * 366);
  std::chrono::seconds drill_critical = std::chrono::hours(24 * 396);
  std::chrono::seconds secret_warning = std::chrono::hours(24 * 335);
  std::chrono::seconds secret_critical = std::chrono::hours(24 * 366);
  std::chrono::seconds crl_time_left_warning = std::chrono::hours(24 * 3);
  std::chrono::seconds lock_held_warning = std::chrono::hours(1);
};

// Reads a thresholds file: a YAML mapping of DrThresholds' members. Unknown
// keys, durations that do not parse (ParseDuration), and a warning threshold
// that is not below its critical one (not above, for ca_not_after and
// responder_expiry, which count time left) are InvalidArgument naming the
// file and the key; a missing file is NotFound. Keys not given keep their
// defaults.
Result<DrThresholds> LoadDrThresholds(const std::string& path);

// What `dr check --list` prints: every check, whatever the profile.
struct DrCheckInfo {
  std::string name;  // stable, [a-z_]: a Prometheus metric name part
  DrProfile profile = DrProfile::kDaily;
  std::string checklist_line;  // the runbook's line it executes
};
const std::vector<DrCheckInfo>& DrChecks();

struct DrCheckResult {
  std::string name;
  DrProfile profile = DrProfile::kDaily;
  DrStatus status = DrStatus::kOk;
  std::string message;  // what was found, for people
  std::string fix;      // the command (or step) that fixes it; empty when ok
};

struct DrCheckRun {
  DrProfile profile = DrProfile::kAll;
  TimePoint checked_at;
  std::vector<DrCheckResult> checks;  // DrChecks() order
  DrStatus worst = DrStatus::kOk;     // critical > warning > unknown > ok
  bool recorded = false;              // the dr.check audit event was written
};

struct DrCheckOptions {
  DrProfile profile = DrProfile::kAll;
  DrThresholds thresholds;
};

// Runs the profile's checks (read-only, but for the audit event) and records
// the run as one audit event "dr.check" (target: the profile; parameters:
// each check's status and the secrets' fingerprints). A check that fails to
// run is that check's "unknown" with the reason, never the call's error; an
// audit event that cannot be written is a warning finding
// "dr.check_not_recorded" (the secrets' first-seen dates then do not
// advance). No finding is an error: the statuses are the result. Fails only
// with Unavailable when the database cannot be read at all.
Result<DrCheckRun> RunDrChecks(OpContext& ctx, const DrCheckOptions& options,
                               OpReport& report);

}  // namespace certctl::ops
