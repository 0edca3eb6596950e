// The key directories' clean-up (certctl/ops/key_files.h) and the responder
// key file names and steps (ops/responder_keys.h).
#include "certctl/ops/key_files.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "certctl/util/files.h"
#include "ops/responder_keys.h"
#include "store/database_identity_repo.h"
#include "store/ocsp_repo.h"
#include "store/operation_lock.h"

namespace certctl::ops {
namespace {

// How many replaced responders of a generation a switch looks back at for
// files to retire; a run killed before retiring leaves the newest one.
constexpr int kRetireLookback = 20;

std::string Prefix(const std::string& issuer, int generation) {
  return issuer + "-g" + std::to_string(generation);
}

bool IsLowerHex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// "{issuer}-g{N}..." with N decimal: the generation, or nullopt.
std::optional<int> GenerationInName(std::string_view name, const std::string& issuer) {
  std::string prefix = issuer + "-g";
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  name.remove_prefix(prefix.size());
  size_t digits = 0;
  while (digits < name.size() && digits < 9 && name[digits] >= '0' &&
         name[digits] <= '9') {
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  return std::stoi(std::string(name.substr(0, digits)));
}

constexpr std::string_view kKeySuffix = ".key";
constexpr std::string_view kDatabaseMark = ".db-";
constexpr size_t kDatabaseIdLength = 16;

// Whether a temporary's target may be removed at any age by `database_id`'s
// writer of this generation: its own names, and those of no database.
bool OwnTemporary(std::string_view target, const std::string& issuer, int generation,
                  const std::string& database_id) {
  if (!internal::IsResponderKeyName(target, issuer, generation)) return false;
  auto id = internal::KeyNameDatabaseId(target);
  return !id || *id == database_id;
}

}  // namespace

std::vector<std::string> KeyDirectories(const Config& config) {
  std::vector<std::string> dirs = {config.ocsp_responder_key_dir};
  if (!config.ca_key_path.empty()) {
    std::filesystem::path ca_dir =
        std::filesystem::path(config.ca_key_path).parent_path();
    if (ca_dir.empty()) ca_dir = ".";
    if (std::filesystem::path(dirs[0]).lexically_normal() != ca_dir.lexically_normal()) {
      dirs.push_back(ca_dir.string());
    }
  }
  return dirs;
}

Result<std::vector<std::string>> RemoveStaleKeyTempFiles(const Config& config,
                                                         std::chrono::seconds min_age) {
  std::vector<std::string> removed;
  for (const auto& dir : KeyDirectories(config)) {
    ASSIGN_OR_RETURN(auto gone, RemoveStaleTempFiles(dir, {.min_age = min_age}));
    removed.insert(removed.end(), gone.begin(), gone.end());
  }
  return removed;
}

Result<std::vector<std::string>> RemoveInterruptedKeyWrites(OpContext& ctx,
                                                            const std::string& issuer) {
  ASSIGN_OR_RETURN(auto lock, OperationLock::TryAcquire(
                                  ctx.db, OcspResponderLockName(issuer),
                                  ThisProcess(ctx.actor.program + " key clean-up")));
  std::vector<std::string> removed;
  if (lock) {
    ASSIGN_OR_RETURN(std::string database_id, internal::ThisDatabaseId(ctx, nullptr));
    ASSIGN_OR_RETURN(
        removed,
        RemoveStaleTempFiles(
            ctx.config.ocsp_responder_key_dir,
            {.min_age = std::chrono::seconds(0), .accept = [&](std::string_view target) {
               auto generation = GenerationInName(target, issuer);
               return generation &&
                      OwnTemporary(target, issuer, *generation, database_id);
             }}));
  }
  ASSIGN_OR_RETURN(auto stale, RemoveStaleKeyTempFiles(ctx.config));
  removed.insert(removed.end(), stale.begin(), stale.end());
  return removed;
}

namespace internal {

std::string ResponderKeyPath(const Config& config, const std::string& issuer,
                             int generation, const std::string& serial,
                             const std::string& database_id) {
  return config.ocsp_responder_key_dir + "/" + Prefix(issuer, generation) + "-" + serial +
         std::string(kDatabaseMark) + database_id + std::string(kKeySuffix);
}

std::string ResponderKeyPattern(const Config& config, const std::string& issuer,
                                int generation) {
  return ResponderKeyPath(config, issuer, generation, "*", "*");
}

std::optional<std::string> KeyNameDatabaseId(std::string_view name) {
  size_t tail = kDatabaseMark.size() + kDatabaseIdLength + kKeySuffix.size();
  if (name.size() <= tail || name.substr(name.size() - kKeySuffix.size()) != kKeySuffix ||
      name.substr(name.size() - tail, kDatabaseMark.size()) != kDatabaseMark) {
    return std::nullopt;
  }
  std::string_view id =
      name.substr(name.size() - kDatabaseIdLength - kKeySuffix.size(), kDatabaseIdLength);
  if (!IsLowerHex(id)) return std::nullopt;
  return std::string(id);
}

bool IsResponderKeyName(std::string_view name, const std::string& issuer,
                        int generation) {
  std::string prefix = Prefix(issuer, generation);
  if (name.size() < prefix.size() + kKeySuffix.size() ||
      name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - kKeySuffix.size()) != kKeySuffix) {
    return false;
  }
  std::string_view middle =
      name.substr(prefix.size(), name.size() - prefix.size() - kKeySuffix.size());
  if (middle.empty()) return true;  // {issuer}-g{generation}.key, two schemes before
  if (KeyNameDatabaseId(name)) {
    middle.remove_suffix(kDatabaseMark.size() + kDatabaseIdLength);
  }
  return middle.size() > 1 && middle[0] == '-' && IsLowerHex(middle.substr(1));
}

Status CheckKeyFileOwned(const std::string& path, const std::string& database_id) {
  std::string name = std::filesystem::path(path).filename().string();
  auto id = KeyNameDatabaseId(name);
  if (id && *id == database_id) return Status::Ok();
  return Status::FailedPrecondition(
      "refusing to write, retire or reuse the responder key file " + path + ": " +
      (id ? "it belongs to the database with identity " + *id
          : std::string("its name carries no database identity")) +
      ", and this database's identity is " + database_id +
      " (a restored copy never touches another database's key files; see "
      "certctl-admin-db-post-restore(1))");
}

Result<std::string> ThisDatabaseId(OpContext& ctx, OpReport* report) {
  if (ctx.dry_run) {
    ASSIGN_OR_RETURN(auto stored,
                     ctx.db.Query<std::optional<DatabaseIdentityRepo::Stored>>(
                         [](Transaction& tx) { return DatabaseIdentityRepo::Peek(tx); }));
    if (stored && stored->bound_here) return stored->id;
    // A copy would get a fresh identity first, so no existing file is its own.
    if (report) {
      report->plan.push_back(
          "give this database an identity of its own: it is a copy of another "
          "certctl database");
    }
    return std::string(kDatabaseIdLength, '-');
  }
  ASSIGN_OR_RETURN(auto identity, ctx.db.Query<DatabaseIdentity>([](Transaction& tx) {
    return DatabaseIdentityRepo::Current(tx);
  }));
  if (identity.replaced) {
    std::string note = "this database is a copy of the database with identity " +
                       *identity.replaced + "; it now has an identity of its own, " +
                       identity.id + ", which names the key files it writes";
    ctx.logger->warn("{}", note);
    if (report) report->steps.push_back(note);
  }
  return identity.id;
}

Result<std::vector<std::string>> RemoveResponderKeyTemps(const Config& config,
                                                         const std::string& issuer,
                                                         int generation,
                                                         const std::string& database_id) {
  const std::string& dir = config.ocsp_responder_key_dir;
  ASSIGN_OR_RETURN(auto removed, RemoveStaleTempFiles(
                                     dir, {.min_age = std::chrono::seconds(0),
                                           .accept = [&](std::string_view target) {
                                             return OwnTemporary(target, issuer,
                                                                 generation, database_id);
                                           }}));
  ASSIGN_OR_RETURN(auto stale, RemoveStaleTempFiles(dir, {.min_age = kStaleTempFileAge}));
  removed.insert(removed.end(), stale.begin(), stale.end());
  return removed;
}

Result<RetiredKeys> RetireReplacedKeys(OpContext& ctx, const std::string& issuer,
                                       int generation,
                                       const std::string& current_key_path,
                                       const std::string& database_id) {
  ASSIGN_OR_RETURN(
      auto history,
      ctx.db.Query<std::vector<OcspResponderHistoryRecord>>([&](Transaction& tx) {
        return OcspResponderRepo::History(tx, issuer, generation, kRetireLookback);
      }));
  RetiredKeys out;
  for (const auto& h : history) {
    std::filesystem::path old(h.responder.key_path);
    std::error_code ec;
    bool in_key_dir = std::filesystem::equivalent(old.parent_path(),
                                                  ctx.config.ocsp_responder_key_dir, ec);
    if (!h.replaced_at || h.responder.key_path == current_key_path || !in_key_dir ||
        !IsResponderKeyName(old.filename().string(), issuer, generation) ||
        std::filesystem::is_symlink(old) || !std::filesystem::is_regular_file(old)) {
      continue;
    }
    if (!CheckKeyFileOwned(h.responder.key_path, database_id).ok()) {
      if (std::find(out.left_alone.begin(), out.left_alone.end(), h.responder.key_path) ==
          out.left_alone.end()) {
        out.left_alone.push_back(h.responder.key_path);
      }
      continue;
    }
    ASSIGN_OR_RETURN(std::string backup, KeepAsBackup(old));
    out.retired.emplace_back(h.responder.key_path, backup);
  }
  return out;
}

}  // namespace internal
}  // namespace certctl::ops
