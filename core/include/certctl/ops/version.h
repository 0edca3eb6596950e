// What `--version` prints for certctld and certctl-admin: the version, the
// git revision the binary was built from, the OpenSSL and libpqxx it uses
// and, when a database answers, the PostgreSQL server's version.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "certctl/config/config.h"
#include "certctl/store/database.h"
#include "certctl/util/status.h"

namespace certctl::ops {

struct VersionInfo {
  std::string version;       // CERTCTL_VERSION, "0.1.0"
  std::string git_revision;  // "167e789abcde", "...-dirty"; "unknown" outside git
  std::string openssl;       // the library loaded at run time ("OpenSSL 3.0.17 ...")
  std::string libpqxx;       // the version built against (PQXX_VERSION)
  // The server's version ("15.14"), or why there is none ("not connected:
  // ..."), as FormatVersion prints it.
  std::string server = "not connected";
};

// Everything but `server`.
VersionInfo CurrentVersion();

// The server's version (SHOW server_version); Unavailable when it does not
// answer.
Result<std::string> ServerVersion(Database& db);

// `server` for the database `config` names: its version, connecting for it
// (for at most `timeout`, the schema not checked), or why there is none:
// "not connected (no database_url configured)", "not connected (...)" with
// the configuration error or libpq's reason. Never fails.
std::string DescribeServer(const Result<Config>& config, std::chrono::seconds timeout);

// "PROGRAM VERSION (git REV)" and a line each for OpenSSL, libpqxx and the
// PostgreSQL server.
std::string FormatVersion(std::string_view program, const VersionInfo& info);

}  // namespace certctl::ops
