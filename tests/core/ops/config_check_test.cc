// CheckConfiguration (`config check`): what certctld's start-up checks,
// without starting it; each refusal is named, and the CA check is the one
// start-up runs (RegisterConfiguredCa refuses the same files with the same
// message).
#include "certctl/ops/config_check.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certctl/ops/issuer_ops.h"
#include "core/ops/ca_fixture.h"

namespace certctl {
namespace {

using std::chrono::hours;

class ConfigCheckTest : public testing::CaOpsTest {
 protected:
  void SetUp() override {
    CaOpsTest::SetUp();
    if (HasFatalFailure()) return;
    // certctld's HTTPS certificate: any certificate with its key.
    auto tls = NewCa("tls", hours(24 * 365), "certctld.test");
    config_.server_tls_cert_path = tls.cert_path;
    config_.server_tls_key_path = tls.key_path;
    // Port 0: any free port, so the checks pass whatever else runs here.
    config_.listen_api = "127.0.0.1:0";
    config_.listen_pki = "127.0.0.1:0";
  }

  testing::OpRun<ops::ConfigChecked> Check(bool in_use_expected = false) {
    testing::OpRun<ops::ConfigChecked> run;
    run.result = ops::CheckConfiguration(
        config_, SystemClock::Instance(), {"tester", "test-host", "certctl-test", ""},
        {.addresses_in_use_expected = in_use_expected}, run);
    return run;
  }

  // The check named `name`; a default one (state skipped, no message) if absent.
  static ops::StartupCheck Named(const testing::OpRun<ops::ConfigChecked>& run,
                                 const std::string& name) {
    if (!run.result.ok()) return {};
    for (const auto& c : run->checks) {
      if (c.name == name) return c;
    }
    return {.state = ops::StartupCheckState::kSkipped};
  }

  static std::string Codes(const ops::OpReport& r) {
    std::string out;
    for (const auto& f : r.findings) out += f.severity + ":" + f.code + " ";
    return out;
  }
};

TEST_F(ConfigCheckTest, AGoodConfigurationWouldStart) {
  int64_t audit_events = Count("audit_events");
  auto run = Check();
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  EXPECT_TRUE(run->would_start) << Codes(run);
  EXPECT_FALSE(run.has_errors()) << Codes(run);
  std::string names;
  for (const auto& c : run->checks) names += c.name + ",";
  EXPECT_EQ(names,
            "ca_files,database,schema,audit_key,ca,server_tls,listen_api,listen_pki,");
  EXPECT_EQ(Named(run, "ca").state, ops::StartupCheckState::kOk);
  EXPECT_NE(Named(run, "ca").message.find("generation 1 of iss-local"), std::string::npos)
      << Named(run, "ca").message;
  // Nothing was registered or audited.
  EXPECT_EQ(Count("ca_generations"), 1);
  EXPECT_EQ(Count("audit_events"), audit_events);
}

// The CA files replaced by hand: certctld refuses to start; so does the check,
// with start-up's own message.
TEST_F(ConfigCheckTest, ACaThatIsNoGenerationIsRefusedAsStartUpRefusesIt) {
  auto other = NewCa("other", hours(24 * 3650), "certctl Local CA");
  config_.ca_cert_path = other.cert_path;
  config_.ca_key_path = other.key_path;
  auto run = Check();
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  EXPECT_FALSE(run->would_start);
  auto ca = Named(run, "ca");
  EXPECT_EQ(ca.state, ops::StartupCheckState::kError);
  EXPECT_EQ(ca.subject, other.cert_path);
  EXPECT_NE(ca.message.find("is none of the CA generations of iss-local"),
            std::string::npos)
      << ca.message;
  EXPECT_NE(Codes(run).find("error:config.ca "), std::string::npos) << Codes(run);

  auto ctx = Context();
  ops::OpReport report;
  auto startup = ops::RegisterConfiguredCa(ctx, kLocalIssuerId, other.cert_path,
                                           other.key_path, report);
  ASSERT_FALSE(startup.ok());
  EXPECT_EQ(ca.message, startup.status().message());
}

TEST_F(ConfigCheckTest, KeyFilesReadableByOthersAreNamed) {
  ASSERT_EQ(::chmod(config_.server_tls_key_path.c_str(), 0644), 0);
  auto run = Check();
  ASSERT_TRUE(run.result.ok());
  EXPECT_FALSE(run->would_start);
  auto tls = Named(run, "server_tls");
  EXPECT_EQ(tls.state, ops::StartupCheckState::kError);
  EXPECT_NE(tls.message.find(config_.server_tls_key_path), std::string::npos)
      << tls.message;
  EXPECT_NE(tls.message.find("644"), std::string::npos) << tls.message;

  ASSERT_EQ(::chmod(config_.server_tls_key_path.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(ca_key_path_.c_str(), 0644), 0);
  auto ca = Named(Check(), "ca");
  EXPECT_EQ(ca.state, ops::StartupCheckState::kError);
  EXPECT_NE(ca.message.find(ca_key_path_), std::string::npos) << ca.message;
}

TEST_F(ConfigCheckTest, AnAddressInUseIsNamedUnlessARestartIsExpected) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  config_.listen_pki = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  auto run = Check();
  ASSERT_TRUE(run.result.ok());
  EXPECT_FALSE(run->would_start);
  auto pki = Named(run, "listen_pki");
  EXPECT_EQ(pki.state, ops::StartupCheckState::kError);
  EXPECT_EQ(pki.subject, config_.listen_pki);
  EXPECT_NE(pki.message.find("listen_pki (CERTCTL_LISTEN_PKI): cannot bind " +
                             config_.listen_pki),
            std::string::npos)
      << pki.message;
  EXPECT_EQ(Named(run, "listen_api").state, ops::StartupCheckState::kOk);

  auto restart = Check(/*in_use_expected=*/true);
  EXPECT_TRUE(restart->would_start) << Codes(restart);
  EXPECT_EQ(Named(restart, "listen_pki").state, ops::StartupCheckState::kWarning);
  ::close(fd);
  // Let go: free again.
  EXPECT_EQ(Named(Check(), "listen_pki").state, ops::StartupCheckState::kOk);
}

TEST_F(ConfigCheckTest, AnUnreachableDatabaseSkipsWhatNeedsIt) {
  testing::TempDir nothing;
  config_.database_url =
      SecretString("host=" + nothing.path() + " dbname=certctl connect_timeout=2");
  auto run = Check();
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  EXPECT_FALSE(run->would_start);
  EXPECT_EQ(Named(run, "database").state, ops::StartupCheckState::kError);
  for (const char* name : {"schema", "audit_key", "ca"}) {
    EXPECT_EQ(Named(run, name).state, ops::StartupCheckState::kSkipped) << name;
  }
  EXPECT_EQ(Named(run, "server_tls").state, ops::StartupCheckState::kOk);
}

TEST_F(ConfigCheckTest, NoCaConfiguredIsStartUpsMessage) {
  config_.ca_key_path.clear();
  auto run = Check();
  auto files = Named(run, "ca_files");
  EXPECT_EQ(files.state, ops::StartupCheckState::kError);
  EXPECT_EQ(files.message, ops::RequireConfiguredCaFiles(config_).message());
  EXPECT_NE(files.message.find("CERTCTL_CA_KEY_PATH"), std::string::npos);
}

}  // namespace
}  // namespace certctl
