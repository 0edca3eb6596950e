#include "daemon/version.h"

#include "certctl/ops/version.h"

namespace certctl::daemon {
namespace {

// The configuration start-up would read, without preparing a dev
// environment: a dev data directory that does not exist yet has no server.
Result<Config> ConfigFor(const DaemonOptions& options) {
  ConfigLoadOptions load{.path = options.config_path,
                         .path_is_explicit = options.config_explicit};
  if (options.dev && !options.config_explicit) {
    auto search = ops::FindDevDataDir(options.data_dir, options.dev_dir_env, options.cwd);
    if (!search.found) return Status::Configuration(search.NotFoundMessage());
    load.path = ops::DevConfigPath(*search.found);
    load.path_is_explicit = true;
  }
  return LoadConfig(load);
}

}  // namespace

std::string VersionText(const DaemonOptions& options) {
  auto info = ops::CurrentVersion();
  info.server = ops::DescribeServer(ConfigFor(options), std::chrono::seconds(2));
  return ops::FormatVersion("certctld", info);
}

}  // namespace certctl::daemon
