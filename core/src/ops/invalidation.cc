#include "certctl/ops/invalidation.h"

#include <nlohmann/json.hpp>

#include "store/invalidation_listener.h"

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

namespace ops {

Result<std::unique_ptr<InvalidationFeed>> InvalidationFeed::Connect(const Database& db) {
  ASSIGN_OR_RETURN(auto listener, InvalidationListener::Connect(db.options()));
  return std::unique_ptr<InvalidationFeed>(new InvalidationFeed(std::move(listener)));
}

InvalidationFeed::InvalidationFeed(std::unique_ptr<InvalidationListener> listener)
    : listener_(std::move(listener)) {}

InvalidationFeed::~InvalidationFeed() = default;

Status InvalidationFeed::Wait(std::chrono::milliseconds timeout,
                              const std::function<void(const Invalidation&)>& fn) {
  return listener_->Wait(timeout, fn);
}

}  // namespace ops
}  // namespace certctl
