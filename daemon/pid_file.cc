#include "daemon/pid_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace certctl::daemon {
namespace {

Status IoError(const std::string& what, const std::string& path) {
  return Status::Internal("pid file " + path + ": " + what + ": " + std::strerror(errno));
}

// The pid written in an open pid file, or 0 when it holds none (yet).
pid_t PidIn(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  std::string_view text(buf, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  pid_t pid = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || p != text.data() + text.size() || pid <= 0) return 0;
  return pid;
}

// Whether `path` still names the file open as `fd`: a holder that was
// stopping may have removed it between our open() and our flock().
bool StillNamed(int fd, const std::string& path) {
  struct stat open_file {
  }, named{};
  if (::fstat(fd, &open_file) != 0 || ::stat(path.c_str(), &named) != 0) return false;
  return open_file.st_dev == named.st_dev && open_file.st_ino == named.st_ino;
}

Status Held(int fd, const std::string& path) {
  pid_t other = PidIn(fd);
  if (other == 0) {
    return Status::FailedPrecondition("another certctld holds the pid file " + path +
                                      " (it is starting and has not written its pid)");
  }
  return Status::FailedPrecondition("certctld is already running with pid " +
                                    std::to_string(other) + " (it holds the pid file " +
                                    path + ")");
}

Status WritePid(int fd, const std::string& path) {
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0) return IoError("truncate", path);
  if (::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return IoError("write", path);
  }
  // Whatever the umask was when the file was created.
  if (::fchmod(fd, 0644) != 0) return IoError("chmod", path);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<PidFile>> PidFile::Create(const std::string& path) {
  // Three tries: each retry means a stopping holder removed the file just
  // as we opened it.
  for (int attempt = 0; attempt < 3; ++attempt) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return IoError("open", path);
    int locked;
    do {
      locked = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (locked != 0 && errno == EINTR);
    if (locked != 0) {
      Status s = errno == EWOULDBLOCK ? Held(fd, path) : IoError("lock", path);
      ::close(fd);
      return s;
    }
    if (!StillNamed(fd, path)) {
      ::close(fd);
      continue;
    }
    if (Status s = WritePid(fd, path); !s.ok()) {
      ::close(fd);
      return s;
    }
    return std::unique_ptr<PidFile>(new PidFile(path, fd));
  }
  return Status::Unavailable("pid file " + path +
                             " keeps being replaced while certctld starts; try again");
}

PidFile::~PidFile() {
  // Removed while still locked, so that no one can lock the old file and
  // believe it is the current one (Create checks StillNamed for that).
  if (StillNamed(fd_, path_)) ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace certctl::daemon
