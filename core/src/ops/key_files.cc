// The key directories' clean-up (certctl/ops/key_files.h) and the responder
// key file names and steps (ops/responder_keys.h).
#include "certctl/ops/key_files.h"

#include <filesystem>
#include <optional>

#include "certctl/util/files.h"
#include "ops/responder_keys.h"
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
    ASSIGN_OR_RETURN(
        removed,
        RemoveStaleTempFiles(
            ctx.config.ocsp_responder_key_dir,
            {.min_age = std::chrono::seconds(0), .accept = [&](std::string_view target) {
               auto generation = GenerationInName(target, issuer);
               return generation &&
                      internal::IsResponderKeyName(target, issuer, *generation);
             }}));
  }
  ASSIGN_OR_RETURN(auto stale, RemoveStaleKeyTempFiles(ctx.config));
  removed.insert(removed.end(), stale.begin(), stale.end());
  return removed;
}

namespace internal {

std::string ResponderKeyPath(const Config& config, const std::string& issuer,
                             int generation, const std::string& serial) {
  return config.ocsp_responder_key_dir + "/" + Prefix(issuer, generation) + "-" + serial +
         ".key";
}

std::string ResponderKeyPattern(const Config& config, const std::string& issuer,
                                int generation) {
  return ResponderKeyPath(config, issuer, generation, "*");
}

bool IsResponderKeyName(std::string_view name, const std::string& issuer,
                        int generation) {
  std::string prefix = Prefix(issuer, generation);
  constexpr std::string_view kSuffix = ".key";
  if (name.size() < prefix.size() + kSuffix.size() ||
      name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return false;
  }
  std::string_view middle =
      name.substr(prefix.size(), name.size() - prefix.size() - kSuffix.size());
  if (middle.empty()) return true;  // {issuer}-g{generation}.key, the scheme before
  return middle[0] == '-' && IsLowerHex(middle.substr(1));
}

Result<std::vector<std::string>> RemoveResponderKeyTemps(const Config& config,
                                                         const std::string& issuer,
                                                         int generation) {
  const std::string& dir = config.ocsp_responder_key_dir;
  ASSIGN_OR_RETURN(auto removed,
                   RemoveStaleTempFiles(dir, {.min_age = std::chrono::seconds(0),
                                              .accept = [&](std::string_view target) {
                                                return IsResponderKeyName(target, issuer,
                                                                          generation);
                                              }}));
  ASSIGN_OR_RETURN(auto stale, RemoveStaleTempFiles(dir, {.min_age = kStaleTempFileAge}));
  removed.insert(removed.end(), stale.begin(), stale.end());
  return removed;
}

Result<std::vector<std::pair<std::string, std::string>>> RetireReplacedKeys(
    OpContext& ctx, const std::string& issuer, int generation,
    const std::string& current_key_path) {
  ASSIGN_OR_RETURN(
      auto history,
      ctx.db.Query<std::vector<OcspResponderHistoryRecord>>([&](Transaction& tx) {
        return OcspResponderRepo::History(tx, issuer, generation, kRetireLookback);
      }));
  std::vector<std::pair<std::string, std::string>> retired;
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
    ASSIGN_OR_RETURN(std::string backup, KeepAsBackup(old));
    retired.emplace_back(h.responder.key_path, backup);
  }
  return retired;
}

}  // namespace internal
}  // namespace certctl::ops
