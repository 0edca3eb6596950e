// `certctl-admin config check`: what certctld checks at start-up, without
// starting it, so that an operator learns before a restart that certctld
// would refuse to start. JSON of the result: certctl/ops/config_check_json.h.
//
// Every check calls the function certctld's start-up calls (daemon/startup.cc,
// daemon/serve.cc), so the two cannot disagree: RequireConfiguredCaFiles,
// Database::Open, RequireCurrentSchema, CheckAuditSetup, CheckConfiguredCa
// (RegisterConfiguredCa's checks, read-only), LoadServerTlsMaterial,
// net::ProbeListenAddress (the listeners' own bind), CheckTrustBundleFile.
// Read-only: nothing is registered, written or audited; the listen addresses
// are bound for a moment and let go.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/ops/op.h"
#include "certctl/util/clock.h"

namespace certctl::ops {

// kError: certctld would refuse to start. kWarning: it would start, but
// something is wrong (a trust bundle it would leave without a pool, no audit
// anchor file, an address in use while `addresses_in_use_expected`).
// kSkipped: not checked because an earlier check failed (no database).
enum class StartupCheckState { kOk, kWarning, kError, kSkipped };
// "ok", "warning", "error", "skipped".
std::string_view StartupCheckStateName(StartupCheckState state);

struct StartupCheck {
  std::string name;     // stable: "ca_files", "database", "schema", "audit_key",
                        // "ca", "server_tls", "listen_api", "listen_pki",
                        // "trust_anchor:<name>"
  std::string subject;  // the configuration key, file or address it is about
  StartupCheckState state = StartupCheckState::kOk;
  std::string message;  // what was found; for an error, certctld's own message
};

struct ConfigChecked {
  std::string config_file;           // the YAML file read; empty: environment only
  std::vector<StartupCheck> checks;  // in certctld's start-up order
  bool would_start = false;          // no check is kError
};

struct ConfigCheckOptions {
  // The running certctld about to be restarted holds the listen addresses:
  // an address in use is then a warning, not an error. Default false.
  bool addresses_in_use_expected = false;
};

// Runs every check against `config` (already loaded: a configuration that
// does not load is the Configuration error LoadConfig gives, before this).
// Opens its own connection to config.database_url. Each kError check is an
// error finding "config.<name>" (subject: the key, file or address), each
// kWarning a warning finding; the call itself fails only on an internal error.
// `actor` names the caller for the lock-free reads (never audited).
Result<ConfigChecked> CheckConfiguration(const Config& config, const Clock& clock,
                                         const Actor& actor,
                                         const ConfigCheckOptions& options,
                                         OpReport& report);

}  // namespace certctl::ops
