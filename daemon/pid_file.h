// config.pid_file (and, in dev mode, <data_dir>/certctld.pid): held with
// flock(2) for the life of the process.
//
// The lock, not the number written in the file, says whether a certctld is
// running: a file left behind by a crash, or one naming a process that has
// nothing to do with certctld (pids are reused), is not locked and is taken
// over. The kernel drops the lock when the process dies, however it dies.
#pragma once

#include <memory>
#include <string>

#include "certctl/util/status.h"

namespace certctl::daemon {

class PidFile {
 public:
  // Opens or creates `path` (mode 0644, never through a symlink), takes an
  // exclusive lock without waiting and writes this process's pid into it.
  // FailedPrecondition naming the pid written in the file when another
  // process holds the lock; the file is left as it is then. Other I/O errors
  // name the path.
  static Result<std::unique_ptr<PidFile>> Create(const std::string& path);
  // Removes the file (if it is still the one locked) and releases the lock.
  ~PidFile();
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  PidFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;  // open, and locked, until the destructor
};

}  // namespace certctl::daemon
