// What trust_request.cc and trust_signal.cc share.
//
// Private to core/src/ops.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "certctl/ops/trust.h"

namespace certctl::ops::internal {

// nullopt when `j` is not an object. A problem this version does not know
// is still a refusal.
std::optional<TrustBundleReloaded> BundleFromJson(const nlohmann::json& j);

// "trust_anchors in /etc/certctl/certctl.yaml", for messages.
std::string TrustAnchorsSource(const Config& config);

// The warning finding "trust.none_configured": no bundle is configured in
// `where` ("certctld (pid 42)"), so there is nothing to reload.
void NoTrustBundles(const std::string& where, OpReport& report);

// RequestTrustReload's real run with `signal` (see certctl/ops/trust.h).
Status ReloadBySignal(OpContext& ctx, const TrustReloadRequest& request,
                      TrustReload& result, OpReport& report);

}  // namespace certctl::ops::internal
