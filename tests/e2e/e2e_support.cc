#include "e2e/e2e_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "certctl/util/files.h"
#include "certctl/util/process.h"

extern char** environ;

namespace certctl::e2e {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

Output Exec(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  ProcessOptions options;
  options.extra_env = env;
  auto r = RunProcess(argv, options);
  if (!r.ok()) return {-1, r.status().ToString()};
  return {r->exit_code, r->output};
}

BackgroundProcess::BackgroundProcess(std::vector<std::string> argv,
                                     std::map<std::string, std::string> env,
                                     std::string log_path)
    : argv_(std::move(argv)), env_(std::move(env)), log_path_(std::move(log_path)) {}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0 && exit_code_ < 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

Status BackgroundProcess::Start() {
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    if (std::string_view(*e).rfind("CERTCTL_", 0) != 0) env_strings.emplace_back(*e);
  }
  for (const auto& [k, v] : env_) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& a : argv_) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) return Status::Internal("cannot open " + log_path_);
  exit_code_ = -1;
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(log);
    return Status::Internal("fork failed");
  }
  if (pid_ == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log);
  return Status::Ok();
}

bool BackgroundProcess::Running() {
  if (pid_ <= 0 || exit_code_ >= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

void BackgroundProcess::Signal(int signo) {
  if (Running()) ::kill(pid_, signo);
}

int BackgroundProcess::Wait(std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= end) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exit_code_ = 128 + SIGKILL;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_code_;
}

std::string BackgroundProcess::Log() const {
  auto text = ReadFile(log_path_);
  return text.ok() ? *text : "";
}

}  // namespace certctl::e2e
