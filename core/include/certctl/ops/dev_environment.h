// Dev mode, the embedded default: everything certctl needs in one directory.
//
// <data_dir>/
//   certctl.yaml          config written on first start; certctl-admin --dev reads it
//   pg/                   private PostgreSQL cluster (unix socket in pg/run)
//   ca/ca.crt, ca.key     the local CA (ECDSA P-256, 10 years)
//   ocsp-responder-keys/  responder keys (0700)
//   tls/                  certctld's own server certificate
//   api-key               the dev API key (0600), printed once when created
//   audit-key             the key that signs the audit log (0600)
//   audit.anchor          the head of the audit chain (0600), and its .lock
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "certctl/util/status.h"

namespace certctl {
class LocalCluster;  // core/src/store/local_cluster.h
}  // namespace certctl

namespace certctl::ops {

inline constexpr char kDefaultDevDataDir[] = "./var/dev";

struct DevEnvironment {
  DevEnvironment();
  ~DevEnvironment();
  DevEnvironment(DevEnvironment&&) noexcept;
  DevEnvironment& operator=(DevEnvironment&&) noexcept;

  // Stops the PostgreSQL cluster if this PrepareDevEnvironment call started
  // it (cluster_started); OK and nothing done otherwise.
  Status StopClusterIfStarted();

  std::string data_dir;     // absolute
  std::string config_path;  // <data_dir>/certctl.yaml
  std::unique_ptr<LocalCluster> cluster;
  bool cluster_created = false;
  // Whether this call started the cluster. Only then may the caller stop it:
  // a cluster that was already running belongs to whoever started it.
  bool cluster_started = false;
  bool ca_created = false;
  std::string new_api_key;         // set only when the key was created by this call
  std::vector<std::string> notes;  // what was done, for the start-up banner
};

// Creates or reuses the dev environment and starts its PostgreSQL cluster
// (migrating the database). The caller stops the cluster when done, if
// cluster_started says this call started it.
Result<DevEnvironment> PrepareDevEnvironment(const std::string& data_dir);

// <data_dir>/certctl.yaml, for `certctl-admin --dev`.
std::string DevConfigPath(const std::string& data_dir);
// <data_dir>/certctld.pid: the pid file of the certctld serving the
// directory (its lock keeps a second one out), as the dev config names it.
std::string DevPidFilePath(const std::string& data_dir);

}  // namespace certctl::ops
