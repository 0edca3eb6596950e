#include "certctl/model/invalidation.h"

#include <nlohmann/json.hpp>

namespace certctl {

std::string Invalidation::ToPayload() const {
  nlohmann::json j = {{"scope", scope}, {"issuer", issuer}, {"serial", serial}};
  return j.dump();
}

Result<Invalidation> Invalidation::FromPayload(std::string_view payload) {
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("scope") || !j["scope"].is_string()) {
    return Status::InvalidArgument("malformed invalidation payload");
  }
  Invalidation out;
  out.scope = j["scope"].get<std::string>();
  if (j.contains("issuer") && j["issuer"].is_string())
    out.issuer = j["issuer"].get<std::string>();
  if (j.contains("serial") && j["serial"].is_string())
    out.serial = j["serial"].get<std::string>();
  if (out.scope != "ocsp" && out.scope != "crl" && out.scope != "all") {
    return Status::InvalidArgument("unknown invalidation scope " + out.scope);
  }
  return out;
}

}  // namespace certctl
