// BackupCa: an issuer's CA material copied into a new directory, manifest
// last, read back, then recorded (the contract is certctl/ops/ca_backup.h).
#include "certctl/ops/ca_backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/identifiers.h"
#include "ops/ca_backup_manifest.h"
#include "ops/ca_rotation_state.h"
#include "store/ca_backup_repo.h"
#include "store/issuer_repo.h"
#include "store/ocsp_repo.h"

namespace certctl::ops {
namespace {

namespace fs = std::filesystem;
using internal::CaCertificateFileName;
using internal::CaKeyFileName;

// A file to write: what the manifest says of it, and its bytes (wiped when
// the file dies: some are keys).
struct PendingFile {
  CaBackupFile file;
  SecretString content;
};

struct BackupPlan {
  CaBackupManifest manifest;
  std::vector<PendingFile> files;
};

// What the database says of the issuer, read in one transaction.
struct IssuerState {
  std::vector<CaGenerationRecord> generations;
  std::map<int, OcspResponderRecord> responders;
  std::optional<UnfinishedRotation> rotation;
};

Result<IssuerState> ReadIssuer(OpContext& ctx, const std::string& issuer) {
  IssuerState state;
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
    state = IssuerState{};
    ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
    if (!found) return Status::NotFound("unknown issuer " + issuer);
    ASSIGN_OR_RETURN(state.generations, IssuerRepo::Generations(tx, issuer));
    for (const auto& g : state.generations) {
      ASSIGN_OR_RETURN(auto row, OcspResponderRepo::Find(tx, issuer, g.generation));
      if (row) state.responders.emplace(g.generation, std::move(*row));
    }
    ASSIGN_OR_RETURN(state.rotation, internal::FindUnfinishedRotation(tx, issuer));
    return Status::Ok();
  }));
  return state;
}

// The key file's bytes, when they hold the key of `cert`.
Result<SecretString> ReadMatchingKey(const std::string& path, X509* cert) {
  ASSIGN_OR_RETURN(std::string raw, ReadFile(path));
  SecretString pem(std::move(raw));
  auto key = ParsePrivateKeyPem(pem.view());
  if (!key.ok()) return Status::FailedPrecondition(path + " does not hold a private key");
  if (!SamePublicKey(key->get(), X509_get0_pubkey(cert))) {
    return Status::FailedPrecondition(path + " does not hold the certificate's key");
  }
  return pem;
}

PendingFile Pending(std::string name, CaBackupFileKind kind,
                    std::optional<int> generation, std::string source,
                    SecretString content) {
  CaBackupFile f{std::move(name), kind, generation, std::move(source), "", 0};
  return PendingFile{std::move(f), std::move(content)};
}

// The CA certificate and key of `g`; FailedPrecondition when the key is not
// there to back up.
Status AddGeneration(const CaGenerationRecord& g, BackupPlan& plan) {
  std::string subject = GenerationLabel(g.issuer_id, g.generation);
  ASSIGN_OR_RETURN(auto cert, ParseCertificatePem(g.cert_pem));
  if (FingerprintSha256(cert.get()) != g.cert_sha256) {
    return Status::Corruption("the CA certificate stored for " + subject +
                              " does not have its recorded fingerprint");
  }
  auto key = ReadMatchingKey(g.key_path, cert.get());
  if (!key.ok()) {
    return Status::FailedPrecondition("cannot back up the CA key of " + subject + ": " +
                                      key.status().message() + "; nothing was written");
  }
  plan.files.push_back(Pending(CaCertificateFileName(g.generation),
                               CaBackupFileKind::kCaCertificate, g.generation, "database",
                               SecretString(g.cert_pem)));
  plan.files.push_back(Pending(CaKeyFileName(g.generation), CaBackupFileKind::kCaKey,
                               g.generation, g.key_path, std::move(key).value()));
  plan.manifest.generations.push_back({g.generation, g.state, g.subject, g.cert_sha256,
                                       g.not_before, g.not_after, g.key_path,
                                       std::nullopt});
  return Status::Ok();
}

// The responder of `generation` as the row names it, or why not.
Result<SecretString> ReadResponderKey(const OcspResponderRecord& row) {
  ASSIGN_OR_RETURN(auto cert, ParseCertificatePem(row.cert_pem));
  return ReadMatchingKey(row.key_path, cert.get());
}

// The responder of `generation`: a key replaced between reading the row and
// the file is read again from the new row once; a responder that is still
// not there is left out with a warning (it can be re-issued from the CA key).
void AddResponder(OpContext& ctx, const std::string& issuer, int generation,
                  const OcspResponderRecord& first, BackupPlan& plan, OpReport& report) {
  OcspResponderRecord row = first;
  auto key = ReadResponderKey(row);
  if (!key.ok()) {
    auto again = ctx.db.Query<std::optional<OcspResponderRecord>>(
        [&](Transaction& tx) { return OcspResponderRepo::Find(tx, issuer, generation); });
    if (again.ok() && *again && (*again)->serial_number != row.serial_number) {
      row = std::move(**again);
      key = ReadResponderKey(row);
    }
  }
  std::string subject = GenerationLabel(issuer, generation);
  if (!key.ok()) {
    report.AddFinding("warning", "ca.backup_responder_skipped", subject,
                      "the OCSP responder " + row.serial_number +
                          " is left out of the backup: " + key.status().message() +
                          " (a responder can be re-issued from the CA key)");
    return;
  }
  plan.files.push_back(Pending(internal::ResponderCertificateFileName(generation),
                               CaBackupFileKind::kResponderCertificate, generation,
                               "database", SecretString(row.cert_pem)));
  plan.files.push_back(Pending(internal::ResponderKeyFileName(generation),
                               CaBackupFileKind::kResponderKey, generation, row.key_path,
                               std::move(key).value()));
  for (auto& g : plan.manifest.generations) {
    if (g.generation == generation) g.responder_serial = row.serial_number;
  }
}

void AddTrustBundles(const Config& config, BackupPlan& plan, OpReport& report) {
  for (size_t i = 0; i < config.trust_anchors.size(); ++i) {
    const auto& t = config.trust_anchors[i];
    auto content = ReadFile(t.path);
    if (!content.ok()) {
      report.AddFinding("warning", "ca.backup_trust_skipped", t.name,
                        "the trust bundle " + t.name +
                            " is left out of the backup: " + content.status().message());
      continue;
    }
    std::string name = internal::TrustBundleFileName(i + 1, t.name);
    plan.files.push_back(Pending(name, CaBackupFileKind::kTrustBundle, std::nullopt,
                                 t.path, SecretString(std::move(content).value())));
    plan.manifest.trust_bundles.push_back({t.name, t.path, name});
  }
}

Result<BackupPlan> Gather(OpContext& ctx, const std::string& issuer,
                          const IssuerState& state, OpReport& report) {
  BackupPlan plan;
  CaBackupManifest& m = plan.manifest;
  m.certctl_version = CERTCTL_VERSION;
  m.issuer = issuer;
  m.created_at = ctx.clock.Now();
  m.created_by = ctx.actor.name;
  m.host = ctx.actor.host;
  ASSIGN_OR_RETURN(std::string id, RandomBytes(16));
  m.run_id = HexEncode(id);
  if (state.generations.empty()) {
    return Status::FailedPrecondition("issuer " + issuer + " has no CA generation");
  }
  for (const auto& g : state.generations) RETURN_IF_ERROR(AddGeneration(g, plan));
  for (const auto& [generation, row] : state.responders) {
    AddResponder(ctx, issuer, generation, row, plan, report);
  }
  AddTrustBundles(ctx.config, plan, report);
  return plan;
}

// A directory a backup may be written to: absent with an existing parent, or
// an empty directory. Nothing is changed.
Status CheckTarget(const fs::path& dir) {
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::InvalidArgument(dir.string() + ": " + ec.message());
  }
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) {
      return Status::InvalidArgument(dir.string() + " exists and is not a directory");
    }
    if (!fs::is_empty(dir, ec) || ec) {
      return Status::InvalidArgument(
          dir.string() +
          " is not empty: a backup is never written among other files; name a new "
          "directory");
    }
    return Status::Ok();
  }
  if (!fs::is_directory(dir.parent_path(), ec)) {
    return Status::InvalidArgument("the parent directory of " + dir.string() +
                                   " does not exist");
  }
  return Status::Ok();
}

Status ErrnoError(const std::string& what) {
  return Status::Internal(what + ": " + std::strerror(errno));
}

// Creates `dir` 0700 (or takes an existing empty one, setting 0700), then
// makes its entry durable.
Status PrepareDirectory(const fs::path& dir, OpReport& report) {
  bool created = ::mkdir(dir.c_str(), 0700) == 0;
  if (!created && errno != EEXIST) return ErrnoError("create " + dir.string());
  if (!created) RETURN_IF_ERROR(CheckTarget(dir));
  if (::chmod(dir.c_str(), 0700) != 0) return ErrnoError("chmod 0700 " + dir.string());
  int fd = ::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + dir.parent_path().string());
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync " + dir.parent_path().string());
  report.steps.push_back((created ? "created " : "using the empty directory ") +
                         dir.string() + " (0700)");
  CERTCTL_FAIL_POINT("ca-backup.directory-created");
  return Status::Ok();
}

constexpr WriteOptions kNewFile{
    .mode = 0600, .keep_backup = false, .allow_overwrite = false};

Status WriteFiles(const fs::path& dir, BackupPlan& plan, OpReport& report) {
  for (auto& p : plan.files) {
    RETURN_IF_ERROR(WriteFileAtomic(dir / p.file.name, p.content.view(), kNewFile));
    p.file.sha256 = Sha256Hex(p.content.view());
    p.file.size = static_cast<int64_t>(p.content.size());
    plan.manifest.files.push_back(p.file);
    CERTCTL_FAIL_POINT("ca-backup.file-written");
  }
  report.steps.push_back("wrote " + std::to_string(plan.files.size()) +
                         " files, mode 0600, none over an existing file");
  return Status::Ok();
}

// Reads back what was written: the manifest parses to what was meant, and
// every file has its digest; the CA keys match their certificates.
Status VerifyWritten(const fs::path& dir, const BackupPlan& plan,
                     const std::string& manifest_text, OpReport& report) {
  ASSIGN_OR_RETURN(std::string on_disk, ReadFile(dir / kCaBackupManifestName));
  if (on_disk != manifest_text) {
    return Status::Corruption(std::string(kCaBackupManifestName) + " reads back changed");
  }
  RETURN_IF_ERROR(internal::DecodeManifest(on_disk).status());
  for (const auto& p : plan.files) {
    ASSIGN_OR_RETURN(std::string raw, ReadFile(dir / p.file.name));
    SecretString content(std::move(raw));
    if (Sha256Hex(content.view()) != p.file.sha256) {
      return Status::Corruption((dir / p.file.name).string() + " reads back changed");
    }
  }
  for (const auto& g : plan.manifest.generations) {
    ASSIGN_OR_RETURN(auto cert,
                     LoadCertificateFile(dir / CaCertificateFileName(g.generation)));
    RETURN_IF_ERROR(
        ReadMatchingKey(dir / CaKeyFileName(g.generation), cert.get()).status());
  }
  report.steps.push_back("read back: " + std::to_string(plan.files.size()) +
                         " files match the manifest, and every CA key its certificate");
  return Status::Ok();
}

Result<int64_t> Record(OpContext& ctx, const fs::path& dir, const BackupPlan& plan,
                       const std::string& manifest_sha256) {
  const CaBackupManifest& m = plan.manifest;
  CaBackupRow row{0,
                  m.issuer,
                  dir.string(),
                  manifest_sha256,
                  static_cast<int>(m.files.size()),
                  m.created_at,
                  m.created_by,
                  m.host};
  std::vector<CaBackupGenerationRow> gens;
  for (const auto& g : m.generations)
    gens.push_back({g.generation, g.fingerprint_sha256});
  auto id = ctx.db.Query<int64_t>(
      [&](Transaction& tx) { return CaBackupRepo::Insert(tx, row, gens); });
  if (!id.ok()) {
    return id.status().WithContext("the backup in " + dir.string() +
                                   " is complete but could not be recorded");
  }
  return id;
}

void Plan(const fs::path& dir, const BackupPlan& plan, OpReport& report) {
  report.plan.push_back("create " + dir.string() + " (0700)");
  for (const auto& p : plan.files) {
    report.plan.push_back("write " + p.file.name + " (0600, " +
                          std::string(CaBackupFileKindName(p.file.kind)) + ", from " +
                          p.file.source + ")");
  }
  report.plan.push_back(std::string("write ") + kCaBackupManifestName +
                        " last (SHA-256 of every file)");
  report.plan.push_back("read every file back, then record the backup in ca_backups");
}

Result<CaBackupWritten> Backup(OpContext& ctx, const std::string& issuer,
                               const fs::path& dir, bool report_rotation,
                               OpReport& report) {
  ASSIGN_OR_RETURN(IssuerState state, ReadIssuer(ctx, issuer));
  if (report_rotation && state.rotation) {
    report.AddFinding("warning", "ca.rotation_unfinished", issuer,
                      internal::DescribeUnfinishedRotation(issuer, *state.rotation));
  }
  ASSIGN_OR_RETURN(BackupPlan plan, Gather(ctx, issuer, state, report));
  RETURN_IF_ERROR(CheckTarget(dir));
  CaBackupWritten result{issuer, dir.string(), plan.manifest, "", std::nullopt};
  if (ctx.dry_run) {
    for (const auto& p : plan.files) result.manifest.files.push_back(p.file);
    Plan(dir, plan, report);
    return result;
  }
  RETURN_IF_ERROR(PrepareDirectory(dir, report));
  RETURN_IF_ERROR(WriteFiles(dir, plan, report));
  std::string manifest = internal::EncodeManifest(plan.manifest);
  RETURN_IF_ERROR(WriteFileAtomic(dir / kCaBackupManifestName, manifest, kNewFile));
  result.manifest = plan.manifest;
  result.manifest_sha256 = Sha256Hex(manifest);
  report.steps.push_back(std::string("wrote ") + kCaBackupManifestName + " (sha256 " +
                         result.manifest_sha256 + ")");
  CERTCTL_FAIL_POINT("ca-backup.manifest-written");
  RETURN_IF_ERROR(VerifyWritten(dir, plan, manifest, report));
  ASSIGN_OR_RETURN(result.backup_id, Record(ctx, dir, plan, result.manifest_sha256));
  report.steps.push_back("recorded backup " + std::to_string(*result.backup_id) + " of " +
                         issuer + " in " + dir.string() + " (manifest sha256 " +
                         result.manifest_sha256 + ")");
  return result;
}

// The directory as given, absolute and without "." or ".." parts.
Result<fs::path> TargetDirectory(const fs::path& dir) {
  if (dir.empty()) return Status::InvalidArgument("no backup directory given");
  std::error_code ec;
  fs::path abs = fs::absolute(dir, ec).lexically_normal();
  if (ec) return Status::InvalidArgument(dir.string() + ": " + ec.message());
  if (!abs.has_filename()) abs = abs.parent_path();  // "dir/" -> "dir"
  if (abs == abs.root_path())
    return Status::InvalidArgument("a backup needs its own directory");
  return abs;
}

}  // namespace

Result<CaBackupWritten> BackupCa(OpContext& ctx, const std::string& issuer,
                                 const fs::path& dir, OpReport& report) {
  report.operation = "ca.backup";
  report.target = issuer;
  report.dry_run = ctx.dry_run;
  RETURN_IF_ERROR(ParseIssuerId(issuer).status());
  ASSIGN_OR_RETURN(fs::path target, TargetDirectory(dir));
  // Refused before anything is audited, as bad input changes nothing; the
  // checks run again under the lock.
  RETURN_IF_ERROR(ReadIssuer(ctx, issuer).status());
  RETURN_IF_ERROR(CheckTarget(target));
  MutationSpec spec{
      "ca.backup", issuer, {{"directory", target.string()}}, {CaLockName(issuer)}};
  return RunMutation(ctx, spec, report, [&]() -> Result<CaBackupWritten> {
    return Backup(ctx, issuer, target, /*report_rotation=*/true, report);
  });
}

Result<CaBackupWritten> BackupCaHoldingLock(OpContext& ctx, const std::string& issuer,
                                            const fs::path& dir, OpReport& report) {
  RETURN_IF_ERROR(ParseIssuerId(issuer).status());
  ASSIGN_OR_RETURN(fs::path target, TargetDirectory(dir));
  return Backup(ctx, issuer, target, /*report_rotation=*/false, report);
}

}  // namespace certctl::ops
