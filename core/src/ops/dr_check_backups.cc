// The database backups of the DR checklist: what pg_dump left in the backup
// directory, judged by the files' modification times (a backup tool that
// copies files keeps them with `cp -p` / rsync -t) and by pg_restore.
#include <algorithm>
#include <filesystem>

#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "certctl/util/time_format.h"
#include "ops/dr_check_internal.h"
#include "store/local_cluster.h"

namespace certctl::ops::internal {
namespace {

namespace fs = std::filesystem;

struct BackupFile {
  fs::path path;
  TimePoint modified;
  bool directory_format = false;
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool LooksLikeDump(const fs::directory_entry& e, bool* directory_format) {
  std::string name = e.path().filename().string();
  if (name.empty() || name[0] == '.') return false;
  std::error_code ec;
  if (e.is_directory(ec)) {
    *directory_format = fs::exists(e.path() / "toc.dat", ec);
    return *directory_format;
  }
  if (!e.is_regular_file(ec)) return false;
  for (std::string_view suffix :
       {".dump", ".pgdump", ".backup", ".tar", ".sql", ".sql.gz"}) {
    if (EndsWith(name, suffix)) return true;
  }
  return false;
}

TimePoint Modified(const fs::path& p) {
  std::error_code ec;
  auto t = fs::last_write_time(p, ec);
  if (ec) return TimePoint{};
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      std::chrono::file_clock::to_sys(t));
}

// The backups in the directory, oldest first; an error message when the
// directory cannot be listed.
Result<std::vector<BackupFile>> ListBackups(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return Status::NotFound("cannot read " + dir + ": " + ec.message());
  std::vector<BackupFile> out;
  for (const auto& e : it) {
    bool directory_format = false;
    if (!LooksLikeDump(e, &directory_format)) continue;
    fs::path stamp = directory_format ? e.path() / "toc.dat" : e.path();
    out.push_back({e.path(), Modified(stamp), directory_format});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.modified < b.modified; });
  return out;
}

std::string BackupFix(const DrThresholds& t) {
  std::string dir = t.backup_dir.empty() ? "<backup dir>" : t.backup_dir;
  return "pg_dump --format=custom --file=" + dir +
         "/certctl-$(date +%F).dump \"$CERTCTL_DATABASE_URL\"";
}

// The backups, or the unknown/critical result that ends the check.
Result<std::vector<BackupFile>> Backups(DrInputs& in, DrCheckResult* ended) {
  if (in.t.backup_dir.empty()) {
    *ended = Outcome(DrStatus::kUnknown,
                     "no backup directory: give --backup-dir or backup_dir in the "
                     "thresholds file",
                     "certctl-admin dr check --backup-dir DIR");
    return Status::NotFound("no backup dir");
  }
  auto backups = ListBackups(in.t.backup_dir);
  if (!backups.ok()) {
    *ended = Outcome(DrStatus::kUnknown, backups.status().message(),
                     "check that " + in.t.backup_dir + " is mounted and readable");
    return backups.status();
  }
  if (backups->empty()) {
    *ended = Outcome(DrStatus::kCritical,
                     "no database backup in " + in.t.backup_dir +
                         " (*.dump, *.pgdump, *.backup, *.tar, *.sql, *.sql.gz or a "
                         "directory-format dump)",
                     BackupFix(in.t));
    return Status::NotFound("no backups");
  }
  return backups;
}

// `pg_restore --list` of the installed PostgreSQL: reads the whole table of
// contents of a custom, tar or directory archive.
DrCheckResult RestoreList(const BackupFile& b) {
  auto bin = FindPostgresBinDir();
  if (!bin.ok()) {
    return Outcome(DrStatus::kUnknown, "pg_restore not found: " + bin.status().message(),
                   "apt-get install postgresql-client-15");
  }
  auto run = RunProcess({*bin + "/pg_restore", "--list", b.path.string()});
  if (!run.ok()) {
    return Outcome(DrStatus::kUnknown,
                   "cannot run pg_restore: " + run.status().message());
  }
  if (run->exit_code != 0) {
    std::string why = run->output.substr(0, 300);
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    return Outcome(DrStatus::kCritical,
                   "pg_restore --list " + b.path.string() + " fails: " + why,
                   "take a new backup; keep this one aside for investigation");
  }
  return Outcome(DrStatus::kOk, "pg_restore --list reads " + b.path.string());
}

// A plain-format dump ends with pg_dump's completion line: without it the
// dump was cut off.
DrCheckResult PlainSqlComplete(const BackupFile& b) {
  auto text = ReadFile(b.path);
  if (!text.ok()) return Outcome(DrStatus::kCritical, text.status().message());
  if (text->find("-- PostgreSQL database dump complete") == std::string::npos) {
    return Outcome(
        DrStatus::kCritical,
        b.path.string() +
            " has no \"PostgreSQL database dump complete\" line: it was cut off",
        "take a new backup");
  }
  return Outcome(DrStatus::kOk, b.path.string() + " is a complete plain-format dump");
}

}  // namespace

DrCheckResult CheckDatabaseBackupAge(DrInputs& in) {
  DrCheckResult ended;
  auto backups = Backups(in, &ended);
  if (!backups.ok()) return ended;
  const BackupFile& newest = backups->back();
  auto age = std::chrono::duration_cast<std::chrono::seconds>(in.now - newest.modified);
  std::string message = "newest " + newest.path.filename().string() + " written " +
                        FormatRfc3339(newest.modified) + " (" + Age(age) + " ago)";
  if (age > in.t.database_backup_critical) {
    return Outcome(DrStatus::kCritical, message, BackupFix(in.t));
  }
  if (age > in.t.database_backup_warning) {
    return Outcome(DrStatus::kWarning, message, BackupFix(in.t));
  }
  return Outcome(DrStatus::kOk, message);
}

DrCheckResult CheckDatabaseBackupRetention(DrInputs& in) {
  DrCheckResult ended;
  auto backups = Backups(in, &ended);
  if (!backups.ok()) return ended;
  const BackupFile& oldest = backups->front();
  auto kept = std::chrono::duration_cast<std::chrono::seconds>(in.now - oldest.modified);
  std::string message = std::to_string(backups->size()) + " backup(s), the oldest " +
                        oldest.path.filename().string() + " from " +
                        FormatRfc3339(oldest.modified) + " (" + Age(kept) + " ago)";
  if (kept < in.t.database_backup_retention) {
    return Outcome(
        DrStatus::kWarning,
        message + ": less than " + Age(in.t.database_backup_retention) + " retained",
        "keep backups for at least " + Age(in.t.database_backup_retention) +
            " (check the rotation of " + in.t.backup_dir + ")");
  }
  return Outcome(DrStatus::kOk, message);
}

DrCheckResult CheckDatabaseBackupReadable(DrInputs& in) {
  DrCheckResult ended;
  auto backups = Backups(in, &ended);
  if (!backups.ok()) return ended;
  const BackupFile& newest = backups->back();
  std::string name = newest.path.filename().string();
  if (EndsWith(name, ".sql")) return PlainSqlComplete(newest);
  if (EndsWith(name, ".sql.gz")) {
    return Outcome(DrStatus::kUnknown,
                   name + " is compressed plain SQL, which pg_restore cannot list",
                   "take backups with pg_dump --format=custom");
  }
  return RestoreList(newest);
}

}  // namespace certctl::ops::internal

namespace certctl::ops::internal {

Result<std::string> NewestBackup(const std::string& dir) {
  ASSIGN_OR_RETURN(auto backups, ListBackups(dir));
  if (backups.empty()) {
    return Status::NotFound("no database backup (pg_dump archive) in " + dir);
  }
  return backups.back().path.string();
}

}  // namespace certctl::ops::internal
