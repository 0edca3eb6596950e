#include "certctl/util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace certctl {
namespace {

Status ErrnoStatus(int err, const std::string& what) {
  std::string m = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Status::NotFound(m);
    case EACCES:
    case EPERM:
      return Status::PermissionDenied(m);
    case EEXIST:
      return Status::AlreadyExists(m);
    default:
      return Status::Internal(m);
  }
}

std::string BackupStamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Status FsyncDirectory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory " + dir.string());
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, "fsync directory " + dir.string());
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data,
                       const WriteOptions& options, std::string* backup_out) {
  if (backup_out) backup_out->clear();
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  struct stat st {};
  bool exists = ::lstat(path.c_str(), &st) == 0;
  if (exists && !options.allow_overwrite) {
    return Status::AlreadyExists("refusing to overwrite existing file " + path.string());
  }

  std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return ErrnoStatus(errno, "create temporary file in " + dir.string());
  auto fail = [&](int err, const std::string& what) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    return ErrnoStatus(err, what);
  };
  if (::fchmod(fd, options.mode) != 0) return fail(errno, "chmod " + tmpl);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno, "write " + tmpl);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail(errno, "fsync " + tmpl);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return ErrnoStatus(err, "close " + tmpl);
  }

  if (exists && options.keep_backup) {
    // A hard link keeps the old content under a new name without a window in
    // which `path` is missing; the rename below then replaces `path` atomically.
    std::string backup = path.string() + ".bak-" + BackupStamp();
    for (int i = 1; ::access(backup.c_str(), F_OK) == 0; ++i) {
      backup = path.string() + ".bak-" + BackupStamp() + "-" + std::to_string(i);
    }
    if (::link(path.c_str(), backup.c_str()) != 0) {
      int err = errno;
      ::unlink(tmpl.c_str());
      return ErrnoStatus(err, "keep backup of " + path.string());
    }
    if (backup_out) *backup_out = backup;
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return ErrnoStatus(err, "rename into " + path.string());
  }
  return FsyncDirectory(dir);
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "read " + path.string());
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "read " + path.string());
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status EnsureDirectory(const std::filesystem::path& dir, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ErrnoStatus(ec.value(), "create directory " + dir.string());
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus(errno, "stat " + dir.string());
  if (!S_ISDIR(st.st_mode))
    return Status::FailedPrecondition(dir.string() + " is not a directory");
  if ((st.st_mode & 07777) != mode && ::chmod(dir.c_str(), mode) != 0) {
    return ErrnoStatus(errno, "chmod " + dir.string());
  }
  return Status::Ok();
}

Result<mode_t> FileMode(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat " + path.string());
  return static_cast<mode_t>(st.st_mode & 07777);
}

}  // namespace certctl
