// Small helpers the handlers share: JSON bodies, query parameters, ids.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "certctl/util/clock.h"
#include "certctl/util/status.h"
#include "daemon/app.h"
#include "daemon/http_message.h"

namespace certctl::daemon::handlers {

// The body as a JSON object. An empty body is {} when `empty_ok`, else
// InvalidArgument; so is anything that is not a JSON object.
Result<nlohmann::json> JsonBody(const HttpRequest& req, bool empty_ok);

// InvalidArgument naming the first member of `body` not in `allowed`.
Status OnlyFields(const nlohmann::json& body,
                  std::initializer_list<std::string_view> allowed);

// A member that must be a string / an integer when present.
Result<std::optional<std::string>> StringField(const nlohmann::json& body,
                                               const char* name);
Result<std::optional<int>> IntField(const nlohmann::json& body, const char* name);

// The query parameters, refusing names not in `allowed`.
Result<std::map<std::string, std::string>> QueryParams(
    const HttpRequest& req, std::initializer_list<std::string_view> allowed);

// A decimal integer within [min, max]; InvalidArgument naming `what`.
Result<int> ParseBoundedInt(std::string_view text, const char* what, int min, int max);

// Whole seconds from `now` until `when`, never negative (Cache-Control
// max-age of CRLs and OCSP answers).
int64_t SecondsUntil(TimePoint when, TimePoint now);

// The caller as an operation actor; Unauthenticated when the router did not
// authenticate the request.
Result<ops::Actor> ApiActorFor(const HttpRequest& req, App& app);

}  // namespace certctl::daemon::handlers
