#include "daemon/pid_file.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>

#include "certctl/util/files.h"

namespace certctl::daemon {
namespace {

// The pid in a pid file, or 0 when it holds none.
pid_t PidIn(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) return 0;
  std::string_view text = *content;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  pid_t pid = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || p != text.data() + text.size() || pid <= 0) return 0;
  return pid;
}

}  // namespace

Result<std::unique_ptr<PidFile>> PidFile::Create(const std::string& path) {
  pid_t other = PidIn(path);
  // kill(pid, 0) probes without signalling; EPERM still means it exists.
  if (other > 0 && other != ::getpid() && (::kill(other, 0) == 0 || errno == EPERM)) {
    return Status::FailedPrecondition("certctld is already running with pid " +
                                      std::to_string(other) + " (pid file " + path + ")");
  }
  RETURN_IF_ERROR(WriteFileAtomic(path, std::to_string(::getpid()) + "\n",
                                  {.mode = 0644, .keep_backup = false}));
  return std::unique_ptr<PidFile>(new PidFile(path));
}

PidFile::~PidFile() {
  if (PidIn(path_) != ::getpid()) return;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace certctl::daemon
