// config.pid_file: written once the listeners are bound, removed at exit.
#pragma once

#include <memory>
#include <string>

#include "certctl/util/status.h"

namespace certctl::daemon {

class PidFile {
 public:
  // Writes this process's pid to `path` (0644, atomically). FailedPrecondition
  // when the file names another process that is still running; a stale file
  // (its process is gone) is replaced.
  static Result<std::unique_ptr<PidFile>> Create(const std::string& path);
  // Removes the file if it still holds this process's pid.
  ~PidFile();
  const std::string& path() const { return path_; }

 private:
  explicit PidFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace certctl::daemon
