// API authentication: `Authorization: Bearer <key>` against the configured
// keys (config.api_keys, which hold SHA-256 digests; CERTCTL_API_KEY is the
// admin key named "default").
#pragma once

#include <string_view>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/util/status.h"
#include "daemon/http_message.h"

namespace certctl::daemon {

// Finds the key whose digest matches the presented Bearer key. The digest is
// compared with every configured key in constant time, and the loop never
// stops early, so timing tells nothing about which key (if any) matched.
// Unauthenticated when the header is missing, not a Bearer credential, or
// the key is unknown.
Result<ApiPrincipal> Authenticate(std::string_view authorization_header,
                                  const std::vector<ApiKeyConfig>& keys);

// reader < operator < admin. PermissionDenied naming both roles when
// `principal` lacks `needed`.
Status Authorize(const ApiPrincipal& principal, ApiRole needed);

}  // namespace certctl::daemon
