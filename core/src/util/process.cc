#include "certctl/util/process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace certctl {

Result<RunAs> LookupAccount(const std::string& name) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
    return Status::NotFound("no local account named " + name);
  }
  return RunAs{pw.pw_uid, pw.pw_gid, pw.pw_name, pw.pw_dir ? pw.pw_dir : "/"};
}

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const ProcessOptions& options) {
  if (argv.empty()) return Status::InvalidArgument("RunProcess: empty argv");
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    return Status::Internal(std::string("pipe: ") + std::strerror(errno));
  }
  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are allowed.
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<std::string> added;
  if (options.run_as) {
    added.push_back("HOME=" + options.run_as->home);
    added.push_back("USER=" + options.run_as->name);
  }
  added.insert(added.end(), options.extra_env.begin(), options.extra_env.end());
  // An added variable replaces the inherited one: with both in the
  // environment, getenv() in the child would find the inherited one first.
  auto replaced = [&](std::string_view entry) {
    std::string_view name = entry.substr(0, entry.find('='));
    for (const auto& a : added) {
      if (std::string_view(a).substr(0, a.find('=')) == name) return true;
    }
    return false;
  };
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) {
    if (!replaced(*e)) env_storage.emplace_back(*e);
  }
  env_storage.insert(env_storage.end(), added.begin(), added.end());
  std::vector<char*> cenv;
  for (auto& e : env_storage) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return Status::Internal(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0)
      _exit(126);
    if (options.run_as) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(options.run_as->gid) != 0 ||
          ::setuid(options.run_as->uid) != 0) {
        _exit(126);
      }
    }
    ::execvpe(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  ::close(pipefd[1]);
  ProcessResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.exit_code = 128 + WTERMSIG(wstatus);
  }
  if (result.exit_code == 127 && result.output.empty()) {
    return Status::NotFound("could not run " + argv[0] + ": program not found");
  }
  return result;
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
  return buf;
}

namespace {

// When process `pid` started, from /proc/<pid>/stat (field 22, clock ticks
// after boot) and the boot time in /proc/stat; nullopt when unreadable.
std::optional<std::chrono::system_clock::time_point> ProcessStart(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  for (int i = 3; i < 22 && fields >> field; ++i) {
  }
  unsigned long long ticks = 0;
  if (!(fields >> ticks)) return std::nullopt;
  std::ifstream boot("/proc/stat");
  long long btime = -1;
  for (std::string key; boot >> key;) {
    if (key == "btime") {
      boot >> btime;
      break;
    }
    std::getline(boot, key);
  }
  long hz = ::sysconf(_SC_CLK_TCK);
  if (btime < 0 || hz <= 0) return std::nullopt;
  auto since_boot = std::chrono::milliseconds(static_cast<int64_t>(ticks * 1000 / hz));
  return std::chrono::system_clock::time_point(std::chrono::seconds(btime)) + since_boot;
}

}  // namespace

bool LocalProcessRuns(int pid,
                      std::optional<std::chrono::system_clock::time_point> not_after) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  if (!not_after) return true;
  auto started = ProcessStart(pid);
  // btime is whole seconds: allow that much.
  return !started || *started <= *not_after + std::chrono::seconds(1);
}

std::string InvokingUser() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo) return sudo;
  return UserName(::geteuid());
}

std::string UserName(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found)
    return pw.pw_name;
  return "uid:" + std::to_string(uid);
}

}  // namespace certctl
