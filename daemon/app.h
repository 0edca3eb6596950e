// The application state every handler receives: configuration, database,
// CA keyring, the CRL and OCSP services, trust bundles, metrics and
// readiness. Built once by main (or by a test) and shared by all threads.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/ops/crl_ops.h"
#include "certctl/ops/keyring.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/ops/op.h"
#include "certctl/ops/trust.h"
#include "certctl/store/database.h"
#include "certctl/util/clock.h"
#include "daemon/http_message.h"
#include "daemon/metrics.h"

namespace certctl::daemon {

// What /readyz reports. Thread-safe.
class Readiness {
 public:
  void SetDatabaseUp(bool up) { database_up_ = up; }
  void SetCaLoaded(bool loaded) { ca_loaded_ = loaded; }
  void SetDraining() { draining_ = true; }
  bool database_up() const { return database_up_; }
  bool ca_loaded() const { return ca_loaded_; }
  bool draining() const { return draining_; }
  // Database reachable, CA loaded and not shutting down.
  bool ready() const { return database_up_ && ca_loaded_ && !draining_; }

 private:
  std::atomic<bool> database_up_{true};
  std::atomic<bool> ca_loaded_{false};
  std::atomic<bool> draining_{false};
};

class App {
 public:
  // Every reference must outlive the App. Creates the CRL and OCSP services
  // and the trust bundle registry (bundles are loaded by LoadTrustAnchors).
  App(Database& db, const Config& config, ops::CaKeyring& keyring, const Clock& clock,
      std::shared_ptr<spdlog::logger> logger);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  Database& db() { return db_; }
  const Config& config() const { return config_; }
  ops::CaKeyring& keyring() { return keyring_; }
  const Clock& clock() const { return clock_; }
  const std::shared_ptr<spdlog::logger>& logger() const { return logger_; }
  ops::CrlService& crl() { return *crl_; }
  ops::OcspService& ocsp() { return *ocsp_; }
  ops::TrustAnchorRegistry& trust() { return *trust_; }
  Metrics& metrics() { return metrics_; }
  Readiness& readiness() { return readiness_; }
  TimePoint started_at() const { return started_at_; }

  // An operation context acting as `actor`.
  ops::OpContext Context(ops::Actor actor);
  // certctld's own work (schedulers, start-up, SIGHUP): actor "certctld".
  ops::Actor DaemonActor() const;
  // An API call: actor "api:<key name>"; `what` ("POST /api/v1/...") stands
  // in for a command line in the audit log.
  ops::Actor ApiActor(const ApiPrincipal& principal, const std::string& what) const;

  // Loads every configured trust bundle once at start-up (a refused bundle
  // is logged; its endpoint has no pool until a reload succeeds).
  void LoadTrustAnchors();

  // Revocations made through this process: drops the in-memory answers at
  // once (other replicas hear it through NOTIFY) and tells the listeners
  // registered with OnRevocation (the CRL scheduler).
  void Revoked(const std::string& issuer, const std::string& serial);
  void OnRevocation(std::function<void(const std::string& issuer)> listener);

 private:
  Database& db_;
  const Config& config_;
  ops::CaKeyring& keyring_;
  const Clock& clock_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string host_;
  TimePoint started_at_;
  Metrics metrics_;
  Readiness readiness_;
  std::unique_ptr<ops::CrlService> crl_;
  std::unique_ptr<ops::OcspService> ocsp_;
  std::unique_ptr<ops::TrustAnchorRegistry> trust_;
  std::mutex mu_;
  std::vector<std::function<void(const std::string&)>> revocation_listeners_;
};

}  // namespace certctl::daemon
