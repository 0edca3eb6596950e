// certctld start-up: configuration, dev environment, database, CA.
//
// Everything the server needs before it opens a socket, in the order an
// operator can reason about; each failure is a Status the caller turns into
// an exit code (see certctl/util/exit_codes.h).
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <optional>
#include <string>

#include "certctl/config/config.h"
#include "certctl/ops/dev_environment.h"
#include "certctl/ops/keyring.h"
#include "certctl/store/database.h"
#include "certctl/util/clock.h"
#include "daemon/pid_file.h"

namespace certctl::daemon {

struct DaemonOptions {
  std::string config_path;  // --config; empty: the default path if it exists
  bool config_explicit = false;
  bool dev = false;  // --dev
  // Dev mode's data directory: --data-dir, else $CERTCTL_DEV_DIR, else the
  // nearest var/dev at or above `cwd`, else (a first start) <cwd>/var/dev.
  std::string data_dir;     // --data-dir
  std::string dev_dir_env;  // $CERTCTL_DEV_DIR, read by main
  std::string cwd = ".";
  std::string log_format;  // --log-format; empty: from config
  std::string log_level;   // --log-level; empty: from config
};

// What start-up produced; owned by main for the process lifetime.
struct Runtime {
  // Dev mode: <data_dir>/certctld.pid, locked before the cluster is touched.
  std::unique_ptr<PidFile> dev_lock;
  std::unique_ptr<PidFile> pid_file;  // config.pid_file, when another file
  // Set in dev mode; its cluster is stopped at exit if this process started
  // it (and only then).
  std::optional<ops::DevEnvironment> dev;
  Config config;
  std::shared_ptr<spdlog::logger> logger;
  std::unique_ptr<Database> db;
  std::unique_ptr<ops::CaKeyring> keyring;
  const Clock* clock = &SystemClock::Instance();

  ~Runtime();
};

// Loads the configuration (preparing the dev environment first in dev mode),
// takes the pid file, opens the database (refusing a schema that is behind),
// and registers or matches the iss-local CA.
//
// A second certctld for the same pid file (or, in dev mode, the same data
// directory) is refused (FailedPrecondition naming the running one's pid)
// before anything is touched: no cluster started or stopped, no database
// opened, no socket bound.
Result<std::unique_ptr<Runtime>> StartUp(const DaemonOptions& options);

}  // namespace certctl::daemon
