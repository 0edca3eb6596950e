// VerifyCaBackup: a backup directory against its manifest, and against the
// database (the contract is certctl/ops/ca_backup.h).
#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <set>

#include "certctl/ops/ca_backup.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"
#include "ops/ca_backup_manifest.h"
#include "store/ca_backup_repo.h"
#include "store/issuer_repo.h"

namespace certctl::ops {
namespace {

namespace fs = std::filesystem;

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The finding code of a file verdict.
std::string FileCode(CaBackupFileVerdict verdict) {
  return "ca.backup_file_" + std::string(CaBackupFileVerdictName(verdict));
}

void AddFileCheck(CaBackupVerified& result, const std::string& dir, std::string name,
                  CaBackupFileVerdict verdict, std::string detail, OpReport& report) {
  if (verdict != CaBackupFileVerdict::kOk) {
    report.AddFinding(verdict == CaBackupFileVerdict::kMode ? "warning" : "error",
                      FileCode(verdict), dir + "/" + name, detail);
  }
  result.files.push_back({std::move(name), verdict, std::move(detail)});
}

// One listed file: there, same size and digest, 0600.
void CheckListedFile(const fs::path& dir, const CaBackupFile& f, CaBackupVerified& result,
                     OpReport& report) {
  fs::path path = dir / f.name;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    AddFileCheck(result, dir.string(), f.name, CaBackupFileVerdict::kMissing,
                 "listed in the manifest, not in the directory (or not a regular file)",
                 report);
    return;
  }
  auto raw = ReadFile(path);
  if (!raw.ok()) {
    AddFileCheck(result, dir.string(), f.name, CaBackupFileVerdict::kMissing,
                 raw.status().message(), report);
    return;
  }
  SecretString content(std::move(raw).value());
  std::string digest = Sha256Hex(content.view());
  if (digest != f.sha256 || static_cast<int64_t>(content.size()) != f.size) {
    AddFileCheck(result, dir.string(), f.name, CaBackupFileVerdict::kChanged,
                 "SHA-256 " + digest + " (" + std::to_string(content.size()) +
                     " bytes), the manifest says " + f.sha256 + " (" +
                     std::to_string(f.size) + " bytes)",
                 report);
    return;
  }
  if ((st.st_mode & 0077) != 0) {
    AddFileCheck(result, dir.string(), f.name, CaBackupFileVerdict::kMode,
                 "mode " + ModeText(st.st_mode) + "; a backup's files are 0600", report);
    return;
  }
  AddFileCheck(result, dir.string(), f.name, CaBackupFileVerdict::kOk, "", report);
}

void CheckExtraFiles(const fs::path& dir, const CaBackupManifest& m,
                     CaBackupVerified& result, OpReport& report) {
  std::set<std::string> listed{kCaBackupManifestName};
  for (const auto& f : m.files) listed.insert(f.name);
  std::set<std::string> extra;  // sorted, for a stable report
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!listed.count(name)) extra.insert(name);
  }
  for (const auto& name : extra) {
    AddFileCheck(result, dir.string(), name, CaBackupFileVerdict::kExtra,
                 "in the directory, not in the manifest", report);
  }
}

CaBackupFileVerdict VerdictOf(const CaBackupVerified& result, const std::string& name) {
  for (const auto& f : result.files) {
    if (f.name == name) return f.verdict;
  }
  return CaBackupFileVerdict::kMissing;
}

// The file of `kind` for `generation` in the manifest, when the check found
// it intact (a changed or missing one has its own finding already).
std::optional<fs::path> IntactFile(const fs::path& dir, const CaBackupManifest& m,
                                   const CaBackupVerified& result, CaBackupFileKind kind,
                                   int generation) {
  for (const auto& f : m.files) {
    if (f.kind != kind || f.generation != generation) continue;
    auto verdict = VerdictOf(result, f.name);
    if (verdict == CaBackupFileVerdict::kOk || verdict == CaBackupFileVerdict::kMode)
      return dir / f.name;
  }
  return std::nullopt;
}

// The backed-up certificate has the manifest's fingerprint and the key is
// its key; `problem` says why not.
std::optional<std::string> CheckKeyPair(const fs::path& cert_path,
                                        const fs::path& key_path,
                                        const CaBackupGeneration& g) {
  auto cert = LoadCertificateFile(cert_path);
  if (!cert.ok()) return cert.status().message();
  if (FingerprintSha256(cert->get()) != g.fingerprint_sha256) {
    return cert_path.filename().string() + " is not the certificate the manifest names";
  }
  auto raw = ReadFile(key_path);
  if (!raw.ok()) return raw.status().message();
  SecretString pem(std::move(raw).value());
  auto key = ParsePrivateKeyPem(pem.view());
  if (!key.ok()) return key_path.filename().string() + " does not hold a private key";
  if (!SamePublicKey(key->get(), X509_get0_pubkey(cert->get()))) {
    return key_path.filename().string() + " does not hold the key of " +
           cert_path.filename().string();
  }
  return std::nullopt;
}

using GenerationChecks = std::map<int, CaBackupGenerationCheck>;

void SetVerdict(GenerationChecks& checks, int generation, CaBackupGenerationVerdict v,
                std::string detail) {
  auto& c = checks[generation];
  c.generation = generation;
  if (c.verdict != CaBackupGenerationVerdict::kOk) return;  // the first problem stays
  c.verdict = v;
  c.detail = std::move(detail);
}

void CheckKeyPairs(const fs::path& dir, const CaBackupManifest& m,
                   const CaBackupVerified& result, GenerationChecks& checks) {
  for (const auto& g : m.generations) {
    checks[g.generation].generation = g.generation;
    auto cert =
        IntactFile(dir, m, result, CaBackupFileKind::kCaCertificate, g.generation);
    auto key = IntactFile(dir, m, result, CaBackupFileKind::kCaKey, g.generation);
    if (!cert || !key) continue;  // a missing or changed file has its finding
    if (auto problem = CheckKeyPair(*cert, *key, g)) {
      SetVerdict(checks, g.generation, CaBackupGenerationVerdict::kKeyMismatch, *problem);
    }
  }
}

// The generations of the backup against the issuer's in the database.
Status CheckAgainstDatabase(OpContext& ctx, const CaBackupManifest& m,
                            CaBackupVerified& result, GenerationChecks& checks) {
  std::vector<CaGenerationRecord> db_gens;
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
    if (ParseIssuerId(m.issuer).ok()) {
      ASSIGN_OR_RETURN(db_gens, IssuerRepo::Generations(tx, m.issuer));
    }
    ASSIGN_OR_RETURN(auto recorded,
                     CaBackupRepo::FindByManifest(tx, result.manifest_sha256));
    if (recorded) result.recorded_backup_id = recorded->id;
    return Status::Ok();
  }));
  std::map<int, const CaGenerationRecord*> in_db;
  for (const auto& g : db_gens) in_db[g.generation] = &g;
  for (const auto& g : m.generations) {
    auto it = in_db.find(g.generation);
    if (it == in_db.end()) {
      SetVerdict(checks, g.generation, CaBackupGenerationVerdict::kNotInDatabase,
                 "the database has no generation " + std::to_string(g.generation) +
                     " of " + m.issuer);
    } else if (it->second->cert_sha256 != g.fingerprint_sha256) {
      SetVerdict(checks, g.generation, CaBackupGenerationVerdict::kFingerprintDiffers,
                 "the database's certificate is sha256 " + it->second->cert_sha256 +
                     ", the backup's " + g.fingerprint_sha256);
    }
    in_db.erase(g.generation);
  }
  for (const auto& [generation, g] : in_db) {
    SetVerdict(checks, generation, CaBackupGenerationVerdict::kNotInBackup,
               "generation " + std::to_string(generation) + " (" + g->subject +
                   ") is newer than the backup; take a new one");
  }
  return Status::Ok();
}

std::string GenerationCode(CaBackupGenerationVerdict v) {
  switch (v) {
    case CaBackupGenerationVerdict::kKeyMismatch:
      return "ca.backup_key_mismatch";
    case CaBackupGenerationVerdict::kNotInBackup:
      return "ca.backup_generation_missing";
    default:
      return "ca.backup_generation_mismatch";
  }
}

void ReportGenerations(const CaBackupManifest& m, GenerationChecks& checks,
                       CaBackupVerified& result, OpReport& report) {
  for (auto& [generation, c] : checks) {
    if (c.verdict != CaBackupGenerationVerdict::kOk) {
      report.AddFinding("error", GenerationCode(c.verdict),
                        GenerationLabel(m.issuer, generation), c.detail);
    }
    result.generations.push_back(std::move(c));
  }
}

// The manifest, or a finding saying why there is none to check against.
std::optional<CaBackupManifest> ReadManifest(const fs::path& dir,
                                             CaBackupVerified& result, OpReport& report) {
  fs::path path = dir / kCaBackupManifestName;
  auto text = ReadFile(path);
  if (!text.ok()) {
    report.AddFinding("error", "ca.backup_incomplete", dir.string(),
                      text.status().code() == StatusCode::kNotFound
                          ? std::string("no ") + kCaBackupManifestName +
                                ": this is not a complete backup (it was interrupted, "
                                "or is not a certctl CA backup)"
                          : text.status().message());
    return std::nullopt;
  }
  result.manifest_sha256 = Sha256Hex(*text);
  auto manifest = internal::DecodeManifest(*text);
  if (!manifest.ok()) {
    report.AddFinding("error", "ca.backup_manifest_invalid", path.string(),
                      manifest.status().message());
    return std::nullopt;
  }
  return std::move(manifest).value();
}

}  // namespace

std::string_view CaBackupFileVerdictName(CaBackupFileVerdict verdict) {
  switch (verdict) {
    case CaBackupFileVerdict::kOk:
      return "ok";
    case CaBackupFileVerdict::kMissing:
      return "missing";
    case CaBackupFileVerdict::kChanged:
      return "changed";
    case CaBackupFileVerdict::kExtra:
      return "extra";
    case CaBackupFileVerdict::kMode:
      return "mode";
  }
  return "unknown";
}

std::string_view CaBackupGenerationVerdictName(CaBackupGenerationVerdict verdict) {
  switch (verdict) {
    case CaBackupGenerationVerdict::kOk:
      return "ok";
    case CaBackupGenerationVerdict::kNotInDatabase:
      return "not_in_database";
    case CaBackupGenerationVerdict::kFingerprintDiffers:
      return "fingerprint_differs";
    case CaBackupGenerationVerdict::kNotInBackup:
      return "not_in_backup";
    case CaBackupGenerationVerdict::kKeyMismatch:
      return "key_mismatch";
  }
  return "unknown";
}

Result<CaBackupVerified> VerifyCaBackup(OpContext& ctx, const fs::path& dir,
                                        OpReport& report) {
  report.operation = "ca.backup.verify";
  report.target = dir.string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound(dir.string() + " is not a directory");
  }
  CaBackupVerified result;
  result.directory = fs::absolute(dir, ec).lexically_normal().string();
  result.manifest = ReadManifest(dir, result, report);
  if (!result.manifest) return result;
  const CaBackupManifest& m = *result.manifest;
  for (const auto& f : m.files) CheckListedFile(dir, f, result, report);
  CheckExtraFiles(dir, m, result, report);
  GenerationChecks checks;
  CheckKeyPairs(dir, m, result, checks);
  RETURN_IF_ERROR(CheckAgainstDatabase(ctx, m, result, checks));
  ReportGenerations(m, checks, result, report);
  if (!result.recorded_backup_id) {
    report.AddFinding("warning", "ca.backup_not_recorded", dir.string(),
                      "the database has no record of this backup (manifest sha256 " +
                          result.manifest_sha256 +
                          "): it was written elsewhere, or recording it failed");
  }
  report.steps.push_back("checked " + std::to_string(m.files.size()) + " files of " +
                         m.issuer + "'s backup of " + FormatRfc3339(m.created_at));
  return result;
}

}  // namespace certctl::ops
