// Fixture for certctld's handler tests: the ops fixture's database and CA,
// three API keys (reader, operator, admin) and an App built on them.
// Requests go through Route() exactly as a session would send them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/app.h"
#include "daemon/http_message.h"
#include "daemon/router.h"
#include "support/ops_fixture.h"

namespace certctl::testing {

inline constexpr char kReaderKey[] = "reader-secret-0123456789";
inline constexpr char kOperatorKey[] = "operator-secret-0123456789";
inline constexpr char kAdminKey[] = "admin-secret-0123456789";

class DaemonTest : public OpsTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Replaces app_ with a fresh one (new metrics and readiness).
  void NewApp();

  daemon::HttpRequest Request(const std::string& method, const std::string& target,
                              const std::string& key = "", std::string body = "",
                              daemon::ListenerKind listener = daemon::ListenerKind::kApi);
  daemon::HttpResponse Call(const daemon::HttpRequest& req);
  daemon::HttpResponse Get(const std::string& target,
                           const std::string& key = kReaderKey);
  daemon::HttpResponse Post(const std::string& target, const std::string& body,
                            const std::string& key = kOperatorKey);
  // The response body as JSON (a failed expectation when it is not).
  static nlohmann::json Json(const daemon::HttpResponse& r);

  // Writes `content` to a file in the test's directory and returns its path.
  std::string WriteFile(const std::string& name, const std::string& content);
  // Runs a command; its output and exit code.
  struct Run {
    int exit_code;
    std::string output;
  };
  static Run Command(const std::vector<std::string>& argv);

  std::unique_ptr<daemon::App> app_;
};

}  // namespace certctl::testing
