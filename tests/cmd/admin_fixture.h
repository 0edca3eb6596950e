// Fixture for tests of the real certctl-admin binary: a fresh migrated
// database of the harness PostgreSQL with iss-local registered (OpsTest), and
// a runner that starts certctl-admin configured only through CERTCTL_*
// variables, with stdin not a terminal, capturing stdout and stderr apart.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "e2e/e2e_support.h"
#include "store/operation_lock.h"
#include "support/eventually.h"
#include "support/ops_fixture.h"

namespace certctl::testing {

struct AdminRun {
  int exit_code = -1;
  std::string out;      // stdout
  std::string err;      // stderr
  nlohmann::json json;  // stdout parsed, or discarded when it is not JSON
  std::string Both() const { return "stdout:\n" + out + "\nstderr:\n" + err; }
};

// A certctld started for a test (environment only), stopped at destruction.
struct RunningDaemon {
  std::unique_ptr<e2e::BackgroundProcess> process;
  std::string api;  // https://127.0.0.1:<port>
  std::string pki;  // http://127.0.0.1:<port>
  std::map<std::string, std::string> env;
  ~RunningDaemon();
};

class AdminTest : public OpsTest {
 protected:
  void SetUp() override;

  // The CERTCTL_* environment of the child (database, CA, responder keys).
  std::map<std::string, std::string> Environment() const;
  // Runs certctl-admin with `args`; `env` entries ("KEY=value") are added
  // and override Environment(); "KEY=" alone removes KEY.
  AdminRun Admin(const std::vector<std::string>& args,
                 const std::vector<std::string>& env = {});

  // Everything a command could change: every table's row count and content
  // digest, and every file under the test directory with its mode and digest.
  std::map<std::string, std::string> Snapshot();
  // Outcomes of the audit events of `action` in order, e.g. "started,succeeded".
  std::string AuditOutcomes(const std::string& action);
  // Holds an operation lock as another process would ("certctld" on
  // "host-a", pid 4242).
  std::unique_ptr<OperationLock> HoldLock(const std::string& name);

  // Starts certctld on free ports against this database and waits for
  // /readyz; null (with a test failure) when it does not come up.
  std::unique_ptr<RunningDaemon> StartDaemon(
      const std::map<std::string, std::string>& extra = {});
  // Starts certctld as StartDaemon does, without waiting for anything.
  std::unique_ptr<RunningDaemon> LaunchDaemon(
      const std::map<std::string, std::string>& extra = {});

  std::string KeyDir() const { return *dir_ / "ocsp-keys"; }
  std::string empty_config_;
  std::string api_key_;
};

}  // namespace certctl::testing
