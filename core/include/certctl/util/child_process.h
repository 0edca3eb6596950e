// A child process that runs beside its parent (a scratch certctld during
// `dr drill`), as opposed to RunProcess, which runs one to completion.
//
// The child gets exactly the environment given (nothing inherited: a parent's
// CERTCTL_* or PG* variables must not reach it), stdin from /dev/null, stdout
// and stderr appended to a log file, and a process group of its own, so that
// a Ctrl-C at the terminal reaches the parent, which stops the child itself.
// Hand-written on fork/exec for the same reason as RunProcess (process.h).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "certctl/util/status.h"

namespace certctl {

class ChildProcess {
 public:
  ChildProcess() = default;
  // Kills (SIGKILL) and reaps a child that still runs.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (an absolute path) with exactly `env` ("KEY=value").
  // Internal when fork fails; a program that cannot be executed exits 127.
  Status Start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::string& log_path);

  pid_t pid() const { return pid_; }
  // Whether it still runs (reaps it when it has exited).
  bool Running();
  // Its exit status once reaped: the exit code, or 128+signal.
  int exit_code() const { return exit_code_; }
  // SIGTERM, then SIGKILL when it has not exited within `grace`; reaps it.
  // Returns the exit status.
  int Stop(std::chrono::milliseconds grace);

 private:
  bool Reap(bool wait);
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace certctl
