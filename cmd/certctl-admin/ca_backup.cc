// certctl-admin ca backup: the runbook's step 1 of "CA private-key rotation"
// and its DR checklist item "CA cert + key offsite", and the check of a
// backup before it is trusted.
#include "certctl/ops/ca_backup.h"

#include "ca_commands.h"
#include "certctl/ops/ca_json.h"
#include "certctl/util/time_format.h"
#include "commands.h"

namespace certctl::admin {
namespace {

struct BackupFlags {
  IssuerChoice choice;
  std::string to;
  std::string verify;
  MutationFlags mutation;
};

void RenderBackup(const AdminApp& app, const ops::OpReport& r,
                  const Result<ops::CaBackupWritten>& result, std::ostream& out) {
  PrintPlanStepsFindings(app, r, out);
  if (r.dry_run || !result.ok()) return;
  std::vector<std::vector<std::string>> rows{{"FILE", "KIND", "SHA-256", "SIZE"}};
  for (const auto& f : result->manifest.files) {
    rows.push_back({f.name, std::string(ops::CaBackupFileKindName(f.kind)), f.sha256,
                    std::to_string(f.size)});
  }
  rows.push_back({ops::kCaBackupManifestName, "manifest", result->manifest_sha256, ""});
  PrintTable(out, rows);
}

void RenderVerify(const AdminApp& app, const ops::OpReport& r,
                  const Result<ops::CaBackupVerified>& result, std::ostream& out) {
  if (result.ok() && result->manifest) {
    const auto& m = *result->manifest;
    out << "backup of " << m.issuer << " taken " << FormatRfc3339(m.created_at) << " by "
        << m.created_by << " on " << m.host << " (certctl " << m.certctl_version << ")\n";
    std::vector<std::vector<std::string>> rows{{"FILE", "VERDICT"}};
    for (const auto& f : result->files) {
      rows.push_back({f.name, app.PaintVerdict(ops::CaBackupFileVerdictName(f.verdict))});
    }
    for (const auto& g : result->generations) {
      rows.push_back({"generation " + std::to_string(g.generation),
                      app.PaintVerdict(ops::CaBackupGenerationVerdictName(g.verdict))});
    }
    PrintTable(out, rows);
  }
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.subject << ": " << f.message << " ["
        << f.code << "]\n";
  }
  if (result.ok() && !r.has_errors()) {
    out << app.PaintVerdict("ok") << ": " << result->directory
        << " matches its manifest and the database\n";
  }
}

void RunBackup(AdminApp& app, BackupFlags& f) {
  if (f.verify.empty() && (f.choice.issuer.empty() || f.to.empty())) {
    return app.Fail(Status::InvalidArgument("give ISSUER --to DIR, or --verify DIR"));
  }
  auto env = app.Open();
  if (!env.ok()) return app.Fail(env.status());
  ops::OpReport report;
  if (!f.verify.empty()) {
    auto ctx = (*env)->Context();
    auto result = ops::VerifyCaBackup(ctx, f.verify, report);
    return app.Finish(report, result,
                      [&app](const auto& r, const auto& result, std::ostream& out) {
                        RenderVerify(app, r, result, out);
                      });
  }
  auto ctx = (*env)->Context(&f.mutation);
  auto result = ops::BackupCa(ctx, f.choice.issuer, f.to, report);
  app.Finish(report, result,
             [&app](const auto& r, const auto& result, std::ostream& out) {
               RenderBackup(app, r, result, out);
             });
}

const char kBackupDescription[] =
    "Copies everything needed to bring the issuer's CA back into a new directory: the "
    "CA certificate (from the database) and private key (from its key file) of every "
    "generation, the current OCSP responder certificate and key of each generation, "
    "and the configured trust bundles, with a manifest.json listing every file with "
    "its SHA-256 and size, the issuer, its generations and their fingerprints, when, "
    "by whom, on which host and with which certctl version.\n\nThe directory is "
    "created with mode 0700 (its parent must exist; an existing empty directory is "
    "used, a non-empty one refused) and every file is written with mode 0600, "
    "atomically, never over an existing file. The manifest is written last: a backup "
    "that was interrupted has no manifest.json and is never taken for a complete one. "
    "Every CA key is checked against its certificate before anything is written, and "
    "every file is read back afterwards; then the backup is recorded in the database, "
    "so that `ca status` shows it. Key material is never printed or logged.\n\nWith "
    "--verify DIR the command only reads: every file listed is there with its SHA-256 "
    "and nothing else is; every CA key matches its certificate; the issuer's "
    "generations in the database are the ones the backup holds, with the same "
    "fingerprints (a generation added by a later rotation makes the backup out of "
    "date); the backup is recorded. Without certctl, `jq -r '.files[] | \"\\(.sha256)  "
    "\\(.name)\"' manifest.json | sha256sum -c` checks the files.";

}  // namespace

void RegisterCaBackup(AdminApp& app, CLI::App* ca) {
  auto& f = app.Make<BackupFlags>();
  auto* cmd = ca->add_subcommand(
      "backup", "Back up every CA generation's certificate and key, or check a backup");
  auto* issuer =
      cmd->add_option("ISSUER", f.choice.issuer, "The issuer id, e.g. iss-local")
          ->type_name("");
  auto* to = cmd->add_option("--to", f.to,
                             "The new directory to write the backup to (created 0700; "
                             "refused when it exists and is not empty)")
                 ->type_name("DIR");
  app.AddMutationFlags(cmd, f.mutation);
  cmd->add_option("--verify", f.verify,
                  "Check the backup in DIR against its manifest and the database instead "
                  "(read-only)")
      ->type_name("DIR")
      ->excludes(issuer)
      ->excludes(to)
      ->excludes(cmd->get_option("--dry-run"));
  app.Document(
      cmd,
      {.description = kBackupDescription,
       .examples =
           {{"certctl-admin ca backup iss-local --to /media/offsite/ca-2026-01",
             "back up the local issuer's CA material"},
            {"certctl-admin ca backup iss-local --to /media/offsite/ca-2026-01 --dry-run",
             "list the files that would be written and where each comes from"},
            {"certctl-admin ca backup --verify /media/offsite/ca-2026-01",
             "check a backup before relying on it"},
            {"cd /media/offsite/ca-2026-01 && jq -r '.files[] | \"\\(.sha256)  "
             "\\(.name)\"' manifest.json | sha256sum -c",
             "check the files with standard tools only"}},
       .json_data =
           {{"issuer, directory, manifest_sha256, backup_id",
             "what was written and its database record (backup_id null in a dry run)"},
            {"manifest",
             "manifest.json: {format, certctl_version, issuer, created_at, created_by, "
             "host, run_id, generations: [{generation, state, subject, "
             "fingerprint_sha256, "
             "not_before, not_after, key_path, responder_serial}], trust_bundles: "
             "[{name, path, file}], files: [{name, kind, generation, source, sha256, "
             "size}]}"},
            {"with --verify",
             "{directory, manifest_sha256, issuer, created_at, recorded_backup_id, "
             "files: [{name, verdict (ok, missing, changed, extra, mode), detail}], "
             "generations: [{generation, verdict (ok, not_in_database, "
             "fingerprint_differs, not_in_backup, key_mismatch), detail}]}"}},
       .findings =
           "with --verify: the directory has no manifest (ca.backup_incomplete) or an "
           "invalid one (ca.backup_manifest_invalid); a file is missing, changed or not "
           "listed (ca.backup_file_missing, ca.backup_file_changed, "
           "ca.backup_file_extra); a CA key does not match its certificate "
           "(ca.backup_key_mismatch); a generation differs from the database or is "
           "newer than the backup (ca.backup_generation_mismatch, "
           "ca.backup_generation_missing). Warnings: a file's mode is not 0600, the "
           "backup is not recorded in this database, a responder or trust bundle was "
           "left out of a backup",
       .mutating = true});
  cmd->callback(
      [&app, &f] { app.SetAction("ca.backup", [&app, &f] { RunBackup(app, f); }); });
}

}  // namespace certctl::admin
