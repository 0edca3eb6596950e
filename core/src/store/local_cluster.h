// A private PostgreSQL cluster in a directory: dev mode's embedded database
// and the test harness's throwaway server.
//
// It listens on a unix socket in <dir>/run only (no TCP). When the current
// process is root, the server programs run as the unprivileged `postgres`
// account (PostgreSQL refuses to run as root) and the directory is given to it.
#pragma once

#include <string>
#include <vector>

#include "certctl/util/status.h"

namespace certctl {

struct LocalClusterOptions {
  std::string dir;                  // holds pgdata/, run/ and postgres.log
  std::string bin_dir;              // empty: FindPostgresBinDir()
  int port = 5432;                  // names the socket file; no TCP listener
  bool durable = true;              // false: fsync=off etc. (tests)
  std::string run_as = "postgres";  // account used when running as root
  // More server settings, "name=value" each (passed as -c name=value).
  std::vector<std::string> settings;
};

// Finds initdb/pg_ctl: $CERTCTL_PG_BIN_DIR, else the newest
// /usr/lib/postgresql/<N>/bin, else `pg_config --bindir`. NotFound with the
// package to install when there is none.
Result<std::string> FindPostgresBinDir();

class LocalCluster {
 public:
  explicit LocalCluster(LocalClusterOptions options);
  ~LocalCluster() = default;

  // initdb when pgdata/ does not exist yet; `created` says whether it did.
  Status Init(bool* created = nullptr);
  // Starts the server (pg_ctl start -w) unless it already runs; `started`
  // says whether this call started it.
  Status Start(bool* started = nullptr);
  // Stops the server (fast shutdown, or immediate).
  Status Stop(bool immediate = false);
  bool IsRunning() const;

  // libpq key=value conninfo for a database of this cluster.
  std::string ConnectionString(const std::string& database) const;

  // CREATE DATABASE (optionally from a template) through psql-free libpq.
  Status CreateDatabase(const std::string& name, const std::string& template_name = "");
  Status DropDatabase(const std::string& name);
  // Creates the database unless it exists; `created` says whether it did.
  Status EnsureDatabase(const std::string& name, bool* created = nullptr);

  const std::string& dir() const { return options_.dir; }
  std::string socket_dir() const { return options_.dir + "/run"; }
  std::string data_dir() const { return options_.dir + "/pgdata"; }
  std::string log_file() const { return options_.dir + "/postgres.log"; }

 private:
  Status RunTool(const std::vector<std::string>& argv,
                 std::string* output = nullptr) const;
  Status PrepareDirectories();
  LocalClusterOptions options_;
};

}  // namespace certctl
