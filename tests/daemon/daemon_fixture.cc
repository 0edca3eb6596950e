#include "daemon/daemon_fixture.h"

#include "certctl/log/logging.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"

namespace certctl::testing {

void DaemonTest::SetUp() {
  OpsTest::SetUp();
  if (HasFatalFailure()) return;
  config_.api_keys = {{"ro", ApiRole::kReader, Sha256Hex(kReaderKey)},
                      {"ops", ApiRole::kOperator, Sha256Hex(kOperatorKey)},
                      {"root", ApiRole::kAdmin, Sha256Hex(kAdminKey)}};
  NewApp();
}

void DaemonTest::NewApp() {
  app_.reset();
  app_ = std::make_unique<daemon::App>(db(), config_, *keyring_, SystemClock::Instance(),
                                       NullLogger());
  app_->readiness().SetCaLoaded(true);
}

void DaemonTest::TearDown() {
  app_.reset();
  OpsTest::TearDown();
}

daemon::HttpRequest DaemonTest::Request(const std::string& method,
                                        const std::string& target, const std::string& key,
                                        std::string body, daemon::ListenerKind listener) {
  daemon::HttpRequest req;
  req.method = method;
  req.target = target;
  if (!key.empty()) req.headers.emplace_back("authorization", "Bearer " + key);
  req.body = std::move(body);
  req.listener = listener;
  req.remote = "test";
  return req;
}

daemon::HttpResponse DaemonTest::Call(const daemon::HttpRequest& req) {
  return daemon::Route(req, *app_);
}

daemon::HttpResponse DaemonTest::Get(const std::string& target, const std::string& key) {
  return Call(Request("GET", target, key));
}

daemon::HttpResponse DaemonTest::Post(const std::string& target, const std::string& body,
                                      const std::string& key) {
  auto req = Request("POST", target, key, body);
  req.headers.emplace_back("content-type", "application/json");
  return Call(req);
}

nlohmann::json DaemonTest::Json(const daemon::HttpResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.body;
  return j;
}

std::string DaemonTest::WriteFile(const std::string& name, const std::string& content) {
  std::string path = *dir_ / name;
  Status s = WriteFileAtomic(path, content, {.mode = 0600, .keep_backup = false});
  EXPECT_TRUE(s.ok()) << s.ToString();
  return path;
}

DaemonTest::Run DaemonTest::Command(const std::vector<std::string>& argv) {
  auto r = RunProcess(argv);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return {-1, ""};
  return {r->exit_code, r->output};
}

}  // namespace certctl::testing
