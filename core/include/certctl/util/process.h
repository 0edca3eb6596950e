// Running helper programs (initdb, pg_ctl) and facts about this process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "certctl/util/status.h"

namespace certctl {

struct RunAs {
  uid_t uid;
  gid_t gid;
  std::string name;
  std::string home;
};

// Looks up a local account (e.g. "postgres"); NotFound when missing.
Result<RunAs> LookupAccount(const std::string& name);

struct ProcessOptions {
  std::optional<RunAs> run_as;         // drop to this account in the child (needs root)
  std::vector<std::string> extra_env;  // "KEY=value" added to the environment
  std::string working_dir;             // empty: inherit
};

struct ProcessResult {
  int exit_code = -1;  // 128+signal when killed by a signal
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] (looked up in PATH when it has no slash) to completion with
// stdin from /dev/null, capturing its output. Fails only when the program could
// not be started; a non-zero exit is reported in ProcessResult.
//
// Hand-written on fork/exec because the one thing we need beyond a plain spawn,
// dropping privileges to the postgres account in the child when run as root, is
// not offered by posix_spawn, and Boost.Process 1.74's hooks for it are fragile.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const ProcessOptions& options = {});

// This machine's host name.
std::string HostName();

// Whether process `pid` of this host still runs: kill(pid, 0) finds it (or
// is not allowed to signal it, which means it exists too), and, when
// `not_after` is given, it started no later than that (a process started
// after it only reuses the pid). The start time comes from /proc; where
// /proc cannot say, the pid alone decides.
bool LocalProcessRuns(
    int pid,
    std::optional<std::chrono::system_clock::time_point> not_after = std::nullopt);

// The human behind this invocation: SUDO_USER when set, else the login name of
// the effective uid, else "uid:<n>".
std::string InvokingUser();

// The login name of `uid`, or "uid:<n>" when it has none (for file owners).
std::string UserName(uid_t uid);

}  // namespace certctl
