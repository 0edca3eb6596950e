#include "certctl/ops/version.h"

#include <openssl/crypto.h>

#include <pqxx/version>

#include "store/pg.h"

namespace certctl {
// cmake/git_revision.cmake writes it into the build directory.
extern const char kGitRevision[];
}  // namespace certctl

namespace certctl::ops {

VersionInfo CurrentVersion() {
  return {.version = CERTCTL_VERSION,
          .git_revision = kGitRevision,
          .openssl = OpenSSL_version(OPENSSL_VERSION),
          .libpqxx = "libpqxx " PQXX_VERSION};
}

Result<std::string> ServerVersion(Database& db) {
  return db.Query<std::string>([](Transaction& tx) -> Result<std::string> {
    auto row = tx.work().exec1("SHOW server_version");
    return row[0].as<std::string>();
  });
}

std::string DescribeServer(const Result<Config>& config, std::chrono::seconds timeout) {
  if (!config.ok()) return "not connected (" + config.status().message() + ")";
  if (config->database_url.empty()) return "not connected (no database_url configured)";
  auto db = Database::Open({.url = std::string(config->database_url.view()),
                            .pool_size = 1,
                            .application_name = "certctl --version",
                            .connect_timeout = timeout});
  if (!db.ok()) return "not connected (" + db.status().message() + ")";
  auto version = ServerVersion(**db);
  if (!version.ok()) return "not connected (" + version.status().message() + ")";
  return *version;
}

std::string FormatVersion(std::string_view program, const VersionInfo& info) {
  return std::string(program) + " " + info.version + " (git " + info.git_revision +
         ")\n" + info.openssl + "\n" + info.libpqxx + "\nPostgreSQL server " +
         info.server + "\n";
}

}  // namespace certctl::ops
