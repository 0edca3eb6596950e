#include "daemon/app.h"

#include "certctl/util/process.h"

namespace certctl::daemon {

App::App(Database& db, const Config& config, ops::CaKeyring& keyring, const Clock& clock,
         std::shared_ptr<spdlog::logger> logger)
    : db_(db),
      config_(config),
      keyring_(keyring),
      clock_(clock),
      logger_(std::move(logger)),
      host_(HostName()),
      started_at_(clock.Now()) {
  crl_ = std::make_unique<ops::CrlService>(Context(DaemonActor()));
  // Signed answers are written back to ocsp_response_cache in batches, off
  // the request path.
  ocsp_ = std::make_unique<ops::OcspService>(Context(DaemonActor()), 100000,
                                             ops::OcspService::WriteBack::kBatched);
  trust_ = std::make_unique<ops::TrustAnchorRegistry>(config.trust_anchors);
}

App::~App() = default;

ops::OpContext App::Context(ops::Actor actor) {
  return ops::OpContext{db_, config_, clock_, logger_, keyring_, std::move(actor)};
}

ops::Actor App::DaemonActor() const {
  return ops::Actor{"certctld", host_, "certctld", ""};
}

ops::Actor App::ApiActor(const ApiPrincipal& principal, const std::string& what) const {
  return ops::Actor{"api:" + principal.key_name, host_, "certctld", what};
}

void App::LoadTrustAnchors() { ops::LoadTrustAnchors(*trust_, clock_.Now(), *logger_); }

void App::Revoked(const std::string& issuer, const std::string& serial) {
  ocsp_->Invalidate({"ocsp", issuer, serial});
  std::vector<std::function<void(const std::string&)>> listeners;
  {
    std::lock_guard lock(mu_);
    listeners = revocation_listeners_;
  }
  for (const auto& l : listeners) l(issuer);
}

void App::OnRevocation(std::function<void(const std::string& issuer)> listener) {
  std::lock_guard lock(mu_);
  revocation_listeners_.push_back(std::move(listener));
}

}  // namespace certctl::daemon
