#include "daemon/auth.h"

#include "certctl/util/encoding.h"

namespace certctl::daemon {
namespace {

int Rank(ApiRole role) {
  switch (role) {
    case ApiRole::kReader:
      return 0;
    case ApiRole::kOperator:
      return 1;
    case ApiRole::kAdmin:
      return 2;
  }
  return 0;
}

}  // namespace

Result<ApiPrincipal> Authenticate(std::string_view header,
                                  const std::vector<ApiKeyConfig>& keys) {
  if (header.empty()) {
    return Status::Unauthenticated(
        "an API key is required: send Authorization: Bearer <key>");
  }
  constexpr std::string_view kScheme = "bearer ";
  bool bearer = header.size() > kScheme.size();
  for (size_t i = 0; bearer && i < kScheme.size(); ++i) {
    bearer = std::tolower(static_cast<unsigned char>(header[i])) == kScheme[i];
  }
  if (!bearer)
    return Status::Unauthenticated("the Authorization header is not a Bearer key");
  std::string_view key = header.substr(kScheme.size());
  while (!key.empty() && (key.front() == ' ' || key.front() == '\t'))
    key.remove_prefix(1);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
  if (key.empty()) return Status::Unauthenticated("the Bearer key is empty");

  // Both sides are 64 hex digits, so ConstantTimeEquals compares equal lengths.
  std::string digest = Sha256Hex(key);
  const ApiKeyConfig* match = nullptr;
  for (const auto& k : keys) {
    if (ConstantTimeEquals(digest, k.key_sha256) && !match) match = &k;
  }
  Cleanse(digest);
  if (!match) return Status::Unauthenticated("the API key is not valid");
  return ApiPrincipal{match->name, match->role};
}

Status Authorize(const ApiPrincipal& principal, ApiRole needed) {
  if (Rank(principal.role) >= Rank(needed)) return Status::Ok();
  return Status::PermissionDenied("API key \"" + principal.key_name + "\" has the " +
                                  std::string(ApiRoleName(principal.role)) +
                                  " role; this endpoint needs " +
                                  std::string(ApiRoleName(needed)));
}

}  // namespace certctl::daemon
