#include "certctl/util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "certctl/util/fail_point.h"
#include "certctl/util/file_owner.h"

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

// "<path>.bak-<UTC stamp>", or with "-N" when that exists already.
std::string FreshBackupName(const std::filesystem::path& path) {
  std::string backup = path.string() + ".bak-" + BackupStamp();
  for (int i = 1; ::access(backup.c_str(), F_OK) == 0; ++i) {
    backup = path.string() + ".bak-" + BackupStamp() + "-" + std::to_string(i);
  }
  return backup;
}

std::filesystem::path DirectoryOf(const std::filesystem::path& path) {
  std::filesystem::path dir = path.parent_path();
  return dir.empty() ? "." : dir;
}

constexpr std::string_view kTempInfix = ".tmp-";
constexpr size_t kTempRandomLength = 6;  // mkstemp's XXXXXX

Status FsyncDirectory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory " + dir.string());
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, "fsync directory " + dir.string());
  return Status::Ok();
}

// The O_EXCL of a rename: link() fails with EEXIST instead of replacing a
// file that appeared at `path` since the caller looked (rename() would
// replace it silently). The temporary name goes once `path` holds the file;
// killed in between, both names hold it and the temporary is swept later.
Status LinkIntoPlace(const std::string& tmp, const std::filesystem::path& path) {
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) {
      return Status::AlreadyExists("refusing to overwrite existing file " +
                                   path.string());
    }
    return ErrnoStatus(err, "link into " + path.string());
  }
  if (::unlink(tmp.c_str()) != 0) return ErrnoStatus(errno, "remove " + tmp);
  return Status::Ok();
}

}  // namespace

// Run as root (`sudo certctl-admin ca rotate`), a key written into the
// service's directory would be root's and unreadable by certctld, which runs
// as its own user (certctld.service: User=certctl): a file root writes takes
// the owner and group of the directory it is written into. Others cannot
// chown, and their files are theirs anyway.
Status AdoptDirectoryOwner(int fd, const std::filesystem::path& dir) {
  if (::geteuid() != 0) return Status::Ok();
  struct stat d {};
  if (::stat(dir.c_str(), &d) != 0) return ErrnoStatus(errno, "stat " + dir.string());
  if (d.st_uid == 0 && d.st_gid == 0) return Status::Ok();
  if (::fchown(fd, d.st_uid, d.st_gid) != 0) {
    return ErrnoStatus(errno, "give the file the owner of " + dir.string());
  }
  return Status::Ok();
}

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data,
                       const WriteOptions& options, std::string* backup_out) {
  if (backup_out) backup_out->clear();
  std::filesystem::path dir = DirectoryOf(path);
  // Without allow_overwrite there is no early check: LinkIntoPlace is the one
  // check, atomic with the write.
  struct stat st {};
  bool exists = options.allow_overwrite && ::lstat(path.c_str(), &st) == 0;

  std::string tmpl =
      (dir / ("." + path.filename().string() + std::string(kTempInfix) + "XXXXXX"))
          .string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return ErrnoStatus(errno, "create temporary file in " + dir.string());
  auto fail = [&](int err, const std::string& what) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    return ErrnoStatus(err, what);
  };
  if (::fchmod(fd, options.mode) != 0) return fail(errno, "chmod " + tmpl);
  if (Status owned = AdoptDirectoryOwner(fd, dir); !owned.ok()) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    return owned;
  }
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
  if (Status hit = HitFailPoint(options.before_rename); !hit.ok()) {
    ::unlink(tmpl.c_str());
    return hit;
  }

  if (exists && options.keep_backup) {
    // A hard link keeps the old content under a new name without a window in
    // which `path` is missing; the rename below then replaces `path` atomically.
    std::string backup = FreshBackupName(path);
    if (::link(path.c_str(), backup.c_str()) != 0) {
      int err = errno;
      ::unlink(tmpl.c_str());
      return ErrnoStatus(err, "keep backup of " + path.string());
    }
    if (backup_out) *backup_out = backup;
  }
  if (!options.allow_overwrite) {
    RETURN_IF_ERROR(LinkIntoPlace(tmpl, path));
  } else if (::rename(tmpl.c_str(), path.c_str()) != 0) {
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

Result<std::string> KeepAsBackup(const std::filesystem::path& path) {
  // link() fails rather than replace an existing name, which rename() would
  // not; the second name goes only once the backup name holds the file.
  std::string backup = FreshBackupName(path);
  if (::link(path.c_str(), backup.c_str()) != 0) {
    return ErrnoStatus(errno, "keep " + path.string() + " as " + backup);
  }
  if (::unlink(path.c_str()) != 0) {
    return ErrnoStatus(errno, "retire " + path.string() + " (kept as " + backup + ")");
  }
  RETURN_IF_ERROR(FsyncDirectory(DirectoryOf(path)));
  return backup;
}

Status RemoveFileDurably(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus(errno, "remove " + path.string());
  }
  return FsyncDirectory(DirectoryOf(path));
}

std::optional<std::string> TempFileTarget(std::string_view name) {
  size_t infix = name.rfind(kTempInfix);
  if (name.size() < 2 || name[0] != '.' || infix == std::string_view::npos || infix < 2 ||
      name.size() - infix - kTempInfix.size() != kTempRandomLength) {
    return std::nullopt;
  }
  for (char c : name.substr(infix + kTempInfix.size())) {
    bool alnum =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum) return std::nullopt;
  }
  return std::string(name.substr(1, infix - 1));
}

Result<std::vector<std::string>> RemoveStaleTempFiles(const std::filesystem::path& dir,
                                                      const TempFileSweep& sweep) {
  std::vector<std::string> removed;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return removed;
  if (ec) return ErrnoStatus(ec.value(), "list " + dir.string());
  std::time_t now = std::time(nullptr);
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    auto target = TempFileTarget(name);
    if (!target || (sweep.accept && !sweep.accept(*target))) continue;
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != ::geteuid() || now - st.st_mtime < sweep.min_age.count()) {
      continue;
    }
    if (::unlink(entry.path().c_str()) != 0) {
      if (errno == ENOENT) continue;  // another sweep was faster
      return ErrnoStatus(errno, "remove stale temporary file " + entry.path().string());
    }
    removed.push_back(entry.path().string());
  }
  if (!removed.empty()) RETURN_IF_ERROR(FsyncDirectory(dir));
  return removed;
}

}  // namespace certctl
