// certctld --version: what certctl/ops/version.h describes, for the database
// certctld would use with these options (the configuration file, or in dev
// mode the dev data directory's), without starting anything.
#pragma once

#include <string>

#include "daemon/startup.h"

namespace certctl::daemon {

std::string VersionText(const DaemonOptions& options);

}  // namespace certctl::daemon
