// certctld and certctl-admin as a service manager and a packager see them:
// certctld tells systemd READY=1 when it serves and STOPPING=1 when it
// drains (Type=notify), and --version on both programs names the version,
// the git revision, OpenSSL, libpqxx and, when connected, the PostgreSQL
// server.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "cmd/admin_fixture.h"

namespace certctl {
namespace {

// A datagram socket bound where systemd's NOTIFY_SOCKET would be.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    bound_ = fd_ >= 0 &&
             ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }
  // The next message, or "" when none comes within `limit`.
  std::string Receive(std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return "";
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  // Messages until one contains `wanted` (returned), or "" after `limit`.
  std::string ReceiveUntil(const std::string& wanted, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string m = Receive(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (m.find(wanted) != std::string::npos) return m;
    }
    return "";
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

using ServiceTest = testing::AdminTest;

TEST_F(ServiceTest, CertctldNotifiesSystemdWhenServingAndWhenDraining) {
  NotifySocket notify(*dir_ / "notify");
  ASSERT_TRUE(notify.bound()) << std::strerror(errno);
  auto daemon = StartDaemon({{"NOTIFY_SOCKET", notify.path()}});
  ASSERT_TRUE(daemon);
  // StartDaemon saw /readyz answer; READY=1 came with the listeners open.
  std::string ready = notify.ReceiveUntil("READY=1", std::chrono::seconds(30));
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << daemon->process->Log();
  EXPECT_NE(ready.find("MAINPID=" + std::to_string(daemon->process->pid())),
            std::string::npos)
      << ready;
  EXPECT_NE(ready.find("STATUS=serving on 127.0.0.1:"), std::string::npos) << ready;
  daemon->process->Signal(SIGTERM);
  std::string stopping = notify.ReceiveUntil("STOPPING=1", std::chrono::seconds(30));
  EXPECT_NE(stopping.find("STOPPING=1"), std::string::npos) << daemon->process->Log();
  EXPECT_EQ(daemon->process->Wait(std::chrono::seconds(60)), 0) << daemon->process->Log();
}

TEST_F(ServiceTest, CertctldServesWhenSystemdCannotBeTold) {
  // A NOTIFY_SOCKET nobody listens on: certctld serves anyway and says why
  // systemd was not told.
  auto daemon = StartDaemon({{"NOTIFY_SOCKET", *dir_ / "nobody-listens"}});
  ASSERT_TRUE(daemon);
  EXPECT_TRUE(testing::Eventually([&] {
    return daemon->process->Log().find("cannot notify systemd on") != std::string::npos;
  })) << daemon->process->Log();
}

// certctld.service makes /etc read-only (ProtectSystem=strict) and runs as
// its own user: a CA key directory certctld cannot write would fail every
// CRL regeneration (the published number is recorded beside the key), so
// certctld refuses to start, exit 78, naming the directory; `config check`
// says the same. chattr +i makes the directory unwritable even for root.
TEST_F(ServiceTest, CertctldRefusesACaKeyDirectoryItCannotWrite) {
  std::filesystem::path ca_dir = *dir_ / "read-only-ca";
  ASSERT_TRUE(EnsureDirectory(ca_dir, 0700).ok());
  std::string key = (ca_dir / "ca.key").string();
  ASSERT_TRUE(WriteFileAtomic(key, *ReadFile(ca_key_path_)).ok());
  testing::Sql(url_, "UPDATE ca_generations SET key_path = '" + key + "'");
  auto frozen = RunProcess({"chattr", "+i", ca_dir.string()});
  ASSERT_TRUE(frozen.ok() && frozen->exit_code == 0)
      << (frozen.ok() ? frozen->output : frozen.status().ToString());
  struct Thaw {
    std::string dir;
    ~Thaw() { (void)RunProcess({"chattr", "-i", dir}); }
  } thaw{ca_dir.string()};

  auto daemon = LaunchDaemon({{"CERTCTL_CA_KEY_PATH", key}});
  ASSERT_TRUE(daemon);
  EXPECT_EQ(daemon->process->Wait(std::chrono::seconds(60)), 78)
      << daemon->process->Log();
  EXPECT_NE(daemon->process->Log().find("the directory " + ca_dir.string() +
                                        " of the CA key of iss-local generation 1 is "
                                        "not writable"),
            std::string::npos)
      << daemon->process->Log();
  auto check = Admin({"config", "check"}, {"CERTCTL_CA_KEY_PATH=" + key});
  EXPECT_NE(check.exit_code, 0) << check.Both();
  EXPECT_NE(check.Both().find(ca_dir.string() + " of the CA key"), std::string::npos)
      << check.Both();
}

// The revision the binaries were built from: the checkout's HEAD (with
// "-dirty" when the tree had changes), as git names it.
std::string Head() {
  auto head = RunProcess({"git", "-C", CERTCTL_SOURCE_DIR, "rev-parse", "HEAD"});
  return head.ok() && head->exit_code == 0 ? head->output.substr(0, 40) : "";
}

void ExpectVersion(const std::string& program, const std::string& out,
                   const std::string& server) {
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      out, m,
      std::regex("^" + program + R"( 0\.1\.0 \(git ([0-9a-f]+|unknown)(-dirty)?\)\n)")))
      << out;
  // Outside a git checkout the build says "unknown"; in one, a prefix of HEAD.
  std::string head = Head();
  std::string want = head.empty() ? "unknown" : head.substr(0, m[1].length());
  EXPECT_EQ(m[1].str(), want) << out << " HEAD " << head;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(\nOpenSSL 3\.\d+\.\d+)"))) << out;
  EXPECT_NE(out.find("\nlibpqxx 6.4."), std::string::npos) << out;
  EXPECT_NE(out.find("\nPostgreSQL server " + server), std::string::npos) << out;
}

TEST_F(ServiceTest, VersionNamesRevisionLibrariesAndTheServerWhenConnected) {
  auto connected = Admin({"--version"});
  EXPECT_EQ(connected.exit_code, 0) << connected.Both();
  ExpectVersion("certctl-admin", connected.out, "15.");
  auto alone = Admin({"--version"}, {"CERTCTL_DATABASE_URL="});
  EXPECT_EQ(alone.exit_code, 0) << alone.Both();
  ExpectVersion("certctl-admin", alone.out, "not connected (no database_url configured)");
  // A server that does not answer: what was tried, and still exit 0.
  auto down = Admin({"--version"}, {"CERTCTL_DATABASE_URL=postgresql://127.0.0.1:" +
                                    std::to_string(e2e::FreePort()) + "/x"});
  EXPECT_EQ(down.exit_code, 0) << down.Both();
  ExpectVersion("certctl-admin", down.out, "not connected (");

  std::vector<std::string> env;
  for (const auto& [k, v] : Environment()) env.push_back(k + "=" + v);
  auto daemon = e2e::Exec({CERTCTLD_PATH, "--version"}, env);
  EXPECT_EQ(daemon.exit_code, 0) << daemon.text;
  ExpectVersion("certctld", daemon.text, "15.");
  auto daemon_alone = e2e::Exec({CERTCTLD_PATH, "--version"});
  EXPECT_EQ(daemon_alone.exit_code, 0) << daemon_alone.text;
  ExpectVersion("certctld", daemon_alone.text, "not connected (");
}

}  // namespace
}  // namespace certctl
