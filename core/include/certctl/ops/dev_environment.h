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
#include <optional>
#include <string>
#include <vector>

#include "certctl/util/status.h"

namespace certctl {
class LocalCluster;  // core/src/store/local_cluster.h
}  // namespace certctl

namespace certctl::ops {

// The dev data directory below a checkout, and the variable that names one.
inline constexpr char kDevDataDirName[] = "var/dev";
inline constexpr char kDevDirVariable[] = "CERTCTL_DEV_DIR";

// Where `--dev` finds its data directory, the way git finds .git:
//  1. `given` (--data-dir), when not empty;
//  2. `variable` ($CERTCTL_DEV_DIR), when not empty;
//  3. the first <dir>/var/dev that is a directory, for <dir> the current
//     directory `cwd` and then each one above it up to /.
struct DevDataDirSearch {
  std::optional<std::string> found;  // absolute, normalised
  std::string how;                   // "--data-dir", "CERTCTL_DEV_DIR", "found above"
  std::string from;                  // `cwd`, where the walk began
  // "no var/dev in /a/b or any directory above it (...)": what a caller says
  // when nothing was found, with how to name one.
  std::string NotFoundMessage() const;
};
DevDataDirSearch FindDevDataDir(const std::string& given, const std::string& variable,
                                const std::string& cwd);

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

// When `database_url` names a dev cluster (its socket directory
// <data_dir>/pg/run, as the dev config writes it) that is not running: that
// data directory, for the hint to start `certctld --dev`. nullopt for any
// other server, or when the dev cluster runs (the failure is something else).
std::optional<std::string> StoppedDevCluster(const std::string& database_url);

// <data_dir>/certctl.yaml, for `certctl-admin --dev`.
std::string DevConfigPath(const std::string& data_dir);
// <data_dir>/certctld.pid: the pid file of the certctld serving the
// directory (its lock keeps a second one out), as the dev config names it.
std::string DevPidFilePath(const std::string& data_dir);

}  // namespace certctl::ops
