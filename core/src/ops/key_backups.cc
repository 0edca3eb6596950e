// Removing old responder key backups (certctl/ops/key_files.h PruneKeyBackups).
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "certctl/ops/key_files.h"
#include "certctl/util/files.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"
#include "store/key_path_repo.h"

namespace certctl::ops {
namespace {

namespace fs = std::filesystem;

constexpr char kLock[] = "ocsp-key-backups";

// "<issuer>-g<N>[-<hex>].key.bak-<YYYYMMDDTHHMMSSZ>[-N]": when the key was
// retired, or nullopt for any other name.
std::optional<TimePoint> RetiredAt(const std::string& name) {
  static const std::regex pattern(
      "^(.+)-g[1-9][0-9]{0,8}(-[0-9a-f]+)?\\.key\\.bak-"
      "([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z(-[0-9]+)?$");
  std::smatch m;
  if (!std::regex_match(name, m, pattern) || !IsIssuerId(m[1].str())) return std::nullopt;
  std::string rfc3339 = m[3].str() + "-" + m[4].str() + "-" + m[5].str() + "T" +
                        m[6].str() + ":" + m[7].str() + ":" + m[8].str() + "Z";
  auto t = ParseRfc3339(rfc3339);
  return t.ok() ? std::optional<TimePoint>(*t) : std::nullopt;
}

std::string Normal(const std::string& path) {
  return fs::absolute(path).lexically_normal().string();
}

// The backups of the key directory, each sorted into removed/kept/named.
Result<KeyBackupsPruned> Sort(OpContext& ctx) {
  KeyBackupsPruned out{ctx.config.ocsp_responder_key_dir,
                       ctx.config.key_backup_retention};
  ASSIGN_OR_RETURN(auto named_list,
                   ctx.db.Query<std::vector<std::string>>(
                       [](Transaction& tx) { return KeyPathRepo::Named(tx); }));
  std::set<std::string> named;
  for (const auto& p : named_list) named.insert(Normal(p));
  TimePoint now = ctx.clock.Now();
  std::error_code ec;
  fs::directory_iterator it(out.directory, ec);
  if (ec == std::errc::no_such_file_or_directory) return out;
  if (ec) return Status::Internal("read " + out.directory + ": " + ec.message());
  for (const auto& entry : it) {
    std::string path = entry.path().string();
    auto retired = RetiredAt(entry.path().filename().string());
    struct stat st {};
    if (!retired || ::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    KeyBackup backup{path, *retired};
    if (now - *retired < out.retention) {
      out.kept.push_back(backup);
    } else if (named.count(Normal(path))) {
      out.named.push_back(path);
    } else {
      out.removed.push_back(backup);
    }
  }
  auto by_path = [](const KeyBackup& a, const KeyBackup& b) { return a.path < b.path; };
  std::sort(out.removed.begin(), out.removed.end(), by_path);
  std::sort(out.kept.begin(), out.kept.end(), by_path);
  std::sort(out.named.begin(), out.named.end());
  return out;
}

Result<KeyBackupsPruned> Prune(OpContext& ctx, OpReport& report) {
  // Sorted again under the lock: the files may have changed meanwhile.
  ASSIGN_OR_RETURN(KeyBackupsPruned result, Sort(ctx));
  for (const auto& path : result.named) {
    report.AddFinding("warning", "keys.backup_named", path,
                      "kept although older than " + FormatDuration(result.retention) +
                          ": a CA or responder row names it as its key");
  }
  for (const auto& b : result.removed) {
    report.plan.push_back("remove " + b.path + " (retired " +
                          FormatRfc3339(b.retired_at) + ", more than " +
                          FormatDuration(result.retention) + " ago)");
  }
  if (ctx.dry_run) return result;
  for (const auto& b : result.removed) {
    RETURN_IF_ERROR(RemoveFileDurably(b.path));
    report.steps.push_back("removed " + b.path);
  }
  report.steps.push_back("removed " + std::to_string(result.removed.size()) +
                         " key backup(s) older than " + FormatDuration(result.retention) +
                         ", kept " + std::to_string(result.kept.size()));
  return result;
}

}  // namespace

Result<KeyBackupsPruned> PruneKeyBackups(OpContext& ctx, PruneTrigger trigger,
                                         OpReport& report) {
  MutationSpec spec{"ocsp.prune-backups",
                    ctx.config.ocsp_responder_key_dir,
                    {{"retention", FormatDuration(ctx.config.key_backup_retention)}},
                    {kLock}};
  if (trigger == PruneTrigger::kScheduled && !ctx.dry_run) {
    // Upkeep runs every few hours: only a removal is worth an audit event.
    ASSIGN_OR_RETURN(KeyBackupsPruned due, Sort(ctx));
    if (due.removed.empty()) {
      report.operation = spec.action;
      report.target = spec.target;
      return due;
    }
  }
  return RunMutation(ctx, spec, report, [&] { return Prune(ctx, report); });
}

}  // namespace certctl::ops
