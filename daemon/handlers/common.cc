#include "daemon/handlers/common.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "certctl/util/identifiers.h"

namespace certctl::daemon::handlers {
namespace {

Status CheckStrings(const nlohmann::json& value, const std::string& where) {
  if (value.is_string()) {
    if (!IsCleanText(value.get_ref<const std::string&>(), /*allow_newlines=*/true)) {
      return Status::InvalidArgument(
          (where.empty() ? std::string("a string") : "\"" + Printable(where, 40) + "\"") +
          " contains a NUL or control character");
    }
  } else if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      if (!IsCleanText(key)) {
        return Status::InvalidArgument("a field name contains a control character");
      }
      RETURN_IF_ERROR(CheckStrings(item, key));
    }
  } else if (value.is_array()) {
    for (const auto& item : value) RETURN_IF_ERROR(CheckStrings(item, where));
  }
  return Status::Ok();
}

}  // namespace

Result<nlohmann::json> JsonBody(const HttpRequest& req, bool empty_ok) {
  bool blank = req.body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) {
    if (empty_ok) return nlohmann::json::object();
    return Status::InvalidArgument("the request needs a JSON body");
  }
  auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return Status::InvalidArgument("the request body is not valid JSON");
  if (!body.is_object())
    return Status::InvalidArgument("the request body must be a JSON object");
  // The parser refuses invalid UTF-8 but not "\u0000": no string in a body
  // may carry a NUL or a control character other than line breaks and tabs
  // (PEM needs those), whatever field it is in.
  RETURN_IF_ERROR(CheckStrings(body, ""));
  return body;
}

Status OnlyFields(const nlohmann::json& body,
                  std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Status::InvalidArgument("unknown field \"" + key + "\" in the request body");
    }
  }
  return Status::Ok();
}

Result<std::optional<std::string>> StringField(const nlohmann::json& body,
                                               const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string())
    return Status::InvalidArgument(std::string(name) + " must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<int>> IntField(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<int>();
  if (!it->is_number_integer())
    return Status::InvalidArgument(std::string(name) + " must be an integer");
  auto v = it->get<int64_t>();
  if (v < -1000000000 || v > 1000000000) {
    return Status::InvalidArgument(std::string(name) + " is out of range");
  }
  return std::optional<int>(static_cast<int>(v));
}

Result<std::map<std::string, std::string>> QueryParams(
    const HttpRequest& req, std::initializer_list<std::string_view> allowed) {
  ASSIGN_OR_RETURN(auto query, ParseQuery(req.Query()));
  for (const auto& [key, value] : query) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Status::InvalidArgument("unknown query parameter \"" + key + "\"");
    }
  }
  return query;
}

Result<int> ParseBoundedInt(std::string_view text, const char* what, int min, int max) {
  int n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || n < min ||
      n > max) {
    return Status::InvalidArgument(std::string(what) + " must be an integer from " +
                                   std::to_string(min) + " to " + std::to_string(max) +
                                   ", not \"" + std::string(text.substr(0, 40)) + "\"");
  }
  return n;
}

int64_t SecondsUntil(TimePoint when, TimePoint now) {
  auto left = std::chrono::duration_cast<std::chrono::seconds>(when - now).count();
  return std::max<int64_t>(0, left);
}

Result<ops::Actor> ApiActorFor(const HttpRequest& req, App& app) {
  if (!req.principal) return Status::Unauthenticated("an API key is required");
  return app.ApiActor(*req.principal, req.method + " " + std::string(req.Path()));
}

}  // namespace certctl::daemon::handlers
