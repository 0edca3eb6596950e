// certctld: serves CRLs and OCSP for each issuer, issues and revokes
// certificates through its API, and runs the schedulers.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "certctl/util/exit_codes.h"
#include "daemon/serve.h"
#include "daemon/startup.h"
#include "daemon/version.h"

int main(int argc, char** argv) {
  using namespace certctl;
  daemon::DaemonOptions options;
  CLI::App app{"certctld: the certctl revocation-plane daemon (CRL, OCSP, issuance API)"};
  // Not CLI11's version flag: --version also reports the configured
  // database server (daemon/version.h), so it is read after the other options.
  bool version = false;
  app.add_flag("--version", version,
               "Show the version, the git revision, OpenSSL, libpqxx and the PostgreSQL "
               "server");
  auto* config = app.add_option("--config", options.config_path,
                                "YAML config file (default /etc/certctl/certctl.yaml)");
  app.add_flag(
      "--dev", options.dev,
      "Development mode: private PostgreSQL cluster, local CA and API key in --data-dir");
  app.add_option("--data-dir", options.data_dir,
                 "Dev-mode data directory (default: $CERTCTL_DEV_DIR, else the nearest "
                 "var/dev in the current directory or above, else ./var/dev)");
  app.add_option("--log-format", options.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  options.config_explicit = config->count() > 0;
  if (const char* dir = std::getenv(ops::kDevDirVariable)) options.dev_dir_env = dir;
  if (version) {
    std::cout << daemon::VersionText(options);
    return kExitOk;
  }

  auto runtime = daemon::StartUp(options);
  if (!runtime.ok()) {
    std::cerr << "certctld: " << runtime.status().message() << "\n";
    return ExitCodeFor(runtime.status());
  }
  auto& rt = **runtime;
  if (rt.dev && !rt.dev->new_api_key.empty()) {
    std::cout << "dev API key (shown once; also in " << rt.dev->data_dir
              << "/api-key): " << rt.dev->new_api_key << std::endl;
  }
  Status served = daemon::Serve(rt);
  if (!served.ok()) {
    std::cerr << "certctld: " << served.message() << "\n";
    return ExitCodeFor(served);
  }
  return kExitOk;
}
