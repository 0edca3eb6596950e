// CA backups: the CA certificate and key of every generation of an issuer,
// its OCSP responder certificates and keys, and the configured trust
// bundles, copied into a directory with a manifest; and the check of such a
// directory against its manifest and the database. JSON of the results:
// certctl/ops/ca_json.h. `certctl-admin ca backup` and the first step of a
// CA rotation call the same procedure.
//
// CONTRACT (implemented in core/src/ops/ca_backup.cc, ca_backup_verify.cc
// and ca_backup_manifest.cc):
// - Layout, flat in the backup directory:
//     ca-g{N}.crt             CA certificate of generation N (PEM, from the
//                             database, the system of record)
//     ca-g{N}.key             its private key (the key file's bytes)
//     ocsp-responder-g{N}.crt the generation's current responder certificate
//     ocsp-responder-g{N}.key its key
//     trust-{i}-{name}.pem    configured trust bundle i (1-based); characters
//                             of the name outside [A-Za-z0-9._-] become "_"
//     manifest.json           kCaBackupFormat: issuer, generations with their
//                             fingerprints, trust bundles, every file with
//                             its SHA-256 and size, time, actor, host, certctl
//                             version and a random run id, so that two
//                             backups of the same material in the same second
//                             still have different manifests (the record is
//                             found by the manifest's SHA-256)
//                             (ToJson(CaBackupManifest)).
// - The directory is created with mode 0700 (its parent must exist); an
//   existing empty directory is used (its mode set to 0700), an existing
//   non-empty one is refused. Every file is written atomically with mode
//   0600 and never over an existing file (util/files.h, allow_overwrite =
//   false: the O_EXCL of a rename). The manifest is written last, the same
//   way: a run killed at any moment leaves a directory without manifest.json,
//   which --verify reports as incomplete, never as a backup.
// - Before anything is written, every CA key file is read and checked
//   against its certificate: a generation whose key is missing, unreadable
//   or does not match is FailedPrecondition naming the file, and nothing is
//   written. A responder whose key is missing or does not match its
//   certificate (it may be being replaced), and a trust bundle that cannot be
//   read, are left out with a warning finding (ca.backup_responder_skipped,
//   ca.backup_trust_skipped): responders can be re-issued from the CA key.
// - After the manifest, every file is read back and compared with it, and
//   each CA key is checked against its certificate again; then the backup is
//   recorded in the database (ca_backups, ca_backup_generations). A backup
//   that could not be recorded is complete on disk; the error says so.
// - Key material is never logged, printed or put in a report: the report
//   names files and their SHA-256 only. Buffers that held keys are wiped.
// - Fail points (util/fail_point.h): ca-backup.directory-created,
//   ca-backup.file-written (after each file), ca-backup.manifest-written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/ops/op.h"

namespace certctl::ops {

inline constexpr char kCaBackupFormat[] = "certctl-ca-backup/1";
inline constexpr char kCaBackupManifestName[] = "manifest.json";

enum class CaBackupFileKind {
  kCaCertificate,
  kCaKey,
  kResponderCertificate,
  kResponderKey,
  kTrustBundle,
};
// "ca_certificate", "ca_key", "responder_certificate", "responder_key",
// "trust_bundle".
std::string_view CaBackupFileKindName(CaBackupFileKind kind);
std::optional<CaBackupFileKind> ParseCaBackupFileKind(std::string_view name);

// One file of a backup.
struct CaBackupFile {
  std::string name;  // in the backup directory, e.g. "ca-g1.key"
  CaBackupFileKind kind = CaBackupFileKind::kCaCertificate;
  std::optional<int> generation;  // CA and responder files
  std::string source;             // copied from: a path, or "database"
  std::string sha256;             // lowercase hex of the content
  int64_t size = 0;               // bytes
};

// A CA generation as the backup holds it.
struct CaBackupGeneration {
  int generation = 0;
  GenerationState state = GenerationState::kActive;
  std::string subject;
  std::string fingerprint_sha256;  // of the CA certificate's DER, lowercase hex
  TimePoint not_before;
  TimePoint not_after;
  std::string key_path;                         // where the key lives on this system
  std::optional<std::string> responder_serial;  // the responder backed up, if any
};

// A configured trust bundle the backup holds.
struct CaBackupTrustBundle {
  std::string name;
  std::string path;  // where it lives on this system
  std::string file;  // its name in the backup directory
};

// manifest.json.
struct CaBackupManifest {
  std::string format = kCaBackupFormat;
  std::string certctl_version;
  std::string issuer;
  TimePoint created_at;
  std::string created_by;  // the actor
  std::string host;
  std::string run_id;  // 128 random bits, hex: tells this run's manifest apart
  std::vector<CaBackupGeneration> generations;  // oldest first
  std::vector<CaBackupTrustBundle> trust_bundles;
  std::vector<CaBackupFile> files;  // every file but the manifest, in write order
};

// What BackupCa wrote (a dry run: what it would write).
struct CaBackupWritten {
  std::string issuer;
  std::string directory;      // as given, made absolute
  CaBackupManifest manifest;  // dry run: files without sha256 and size
  std::string manifest_sha256;
  std::optional<int64_t> backup_id;  // the database record; unset in a dry run
};

// `ca backup ISSUER --to DIR`: backs up `issuer` into `dir` as the contract
// above says, under RunMutation (audit events "ca.backup" started/ended, the
// last step naming the manifest's SHA-256; lock CaLockName(issuer), Busy
// naming the holder). Dry run: report.plan lists the directory and every
// file with where it comes from, and the record; every check that reads
// (issuer, keys, directory empty) runs, nothing is written.
// Errors: NotFound for an unknown issuer; InvalidArgument for a `dir` that
// exists and is not an empty directory, or whose parent does not exist;
// FailedPrecondition for a CA key that is missing, unreadable or does not
// match; AlreadyExists if a file appears in `dir` while writing; Unavailable
// when the database is down. Findings: the warnings above, and
// ca.rotation_unfinished (warning) when a rotation of the issuer is
// unfinished (a backup is taken all the same).
Result<CaBackupWritten> BackupCa(OpContext& ctx, const std::string& issuer,
                                 const std::filesystem::path& dir, OpReport& report);

// The same backup for a caller that already holds CaLockName(issuer) and
// writes its own audit events (`ca rotate`'s first step): no lock is taken
// and no audit event is written; everything else, dry run included, is
// BackupCa's.
Result<CaBackupWritten> BackupCaHoldingLock(OpContext& ctx, const std::string& issuer,
                                            const std::filesystem::path& dir,
                                            OpReport& report);

// How one file of a backup compares with its manifest.
enum class CaBackupFileVerdict { kOk, kMissing, kChanged, kExtra, kMode };
// "ok", "missing", "changed", "extra", "mode".
std::string_view CaBackupFileVerdictName(CaBackupFileVerdict verdict);

struct CaBackupFileCheck {
  std::string name;
  CaBackupFileVerdict verdict = CaBackupFileVerdict::kOk;
  std::string detail;  // why, for people; empty when ok
};

// How one generation compares with the database.
enum class CaBackupGenerationVerdict {
  kOk,
  kNotInDatabase,       // the backup has it, the database does not
  kFingerprintDiffers,  // the database's certificate of that number differs
  kNotInBackup,         // the database has it, the backup does not (newer)
  kKeyMismatch,         // the backed-up key does not match the backed-up certificate
};
// "ok", "not_in_database", "fingerprint_differs", "not_in_backup",
// "key_mismatch".
std::string_view CaBackupGenerationVerdictName(CaBackupGenerationVerdict verdict);

struct CaBackupGenerationCheck {
  int generation = 0;
  CaBackupGenerationVerdict verdict = CaBackupGenerationVerdict::kOk;
  std::string detail;
};

struct CaBackupVerified {
  std::string directory;
  std::optional<CaBackupManifest> manifest;  // unset: missing or unreadable
  std::string manifest_sha256;               // of manifest.json, when it exists
  std::vector<CaBackupFileCheck> files;      // manifest order, then extra files
  std::vector<CaBackupGenerationCheck> generations;
  std::optional<int64_t> recorded_backup_id;  // the database's record of it
};

// `ca backup --verify DIR`: reads DIR's manifest and checks, read-only:
// every listed file is there with its SHA-256 and size (ca.backup_file_missing,
// ca.backup_file_changed), nothing else is there (ca.backup_file_extra),
// files are 0600 (ca.backup_file_mode, a warning); every CA key matches its
// certificate and the certificate has the manifest's fingerprint
// (ca.backup_key_mismatch, ca.backup_file_changed); against the database,
// every generation of the backup exists with the same certificate
// (ca.backup_generation_mismatch) and every generation of the issuer is in
// the backup (ca.backup_generation_missing: the backup predates a rotation);
// the backup is recorded (ca.backup_not_recorded, a warning). Each problem
// is an error finding unless said otherwise. A directory without a manifest
// (ca.backup_incomplete) or with one that is not kCaBackupFormat
// (ca.backup_manifest_invalid) is an error finding and nothing else is
// checked. NotFound when `dir` does not exist; Unavailable when the database
// is down.
Result<CaBackupVerified> VerifyCaBackup(OpContext& ctx, const std::filesystem::path& dir,
                                        OpReport& report);

}  // namespace certctl::ops
