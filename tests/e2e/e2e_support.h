// End-to-end test support: running the real certctld in the background the
// way an init system would (environment only, SIGTERM to stop), free ports,
// and the operator's command line tools.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "certctl/util/status.h"

namespace certctl::e2e {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and
// released), so tests can run in parallel.
int FreePort();

struct Output {
  int exit_code = -1;
  std::string text;  // stdout and stderr
};
// Runs a command to completion (openssl, curl, certctl-admin), with `env`
// ("KEY=value") added to the environment.
Output Exec(const std::vector<std::string>& argv,
            const std::vector<std::string>& env = {});

// A background process. Hand-written on fork/exec: RunProcess only runs to
// completion, and Boost.Process would bring in Boost.Filesystem for this one
// use.
class BackgroundProcess {
 public:
  // Starts argv with exactly the CERTCTL_* variables of `env` (others from
  // this process's environment stay, minus any CERTCTL_*), output appended to
  // `log_path`.
  BackgroundProcess(std::vector<std::string> argv, std::map<std::string, std::string> env,
                    std::string log_path);
  ~BackgroundProcess();  // SIGKILL if still running
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  Status Start();
  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int signo);
  // Waits for the exit; the exit code (128+signal when killed), or -1 when
  // it did not exit within `limit` (it is then killed).
  int Wait(std::chrono::milliseconds limit);
  std::string Log() const;

 private:
  std::vector<std::string> argv_;
  std::map<std::string, std::string> env_;
  std::string log_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace certctl::e2e
