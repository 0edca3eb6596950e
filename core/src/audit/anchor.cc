#include "certctl/audit/anchor.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "certctl/util/encoding.h"
#include "certctl/util/file_owner.h"
#include "certctl/util/files.h"
#include "certctl/util/time_format.h"

namespace certctl::audit {
namespace {

constexpr std::string_view kMagic = "certctl-audit-anchor v1";

Result<int64_t> ParsePositive(std::string_view name, std::string_view v) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 1) {
    return Status::InvalidArgument(std::string(name) + " is not a positive integer");
  }
  return n;
}

// The value of `name=` among the space-separated fields, or empty.
std::string_view Field(std::string_view text, std::string_view name) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find_first_of(" \t\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    if (word.size() > name.size() && word.substr(0, name.size()) == name &&
        word[name.size()] == '=') {
      return word.substr(name.size() + 1);
    }
    pos = end + 1;
  }
  return {};
}

// An exclusive flock on FILE.lock for the life of the object.
class AnchorLock {
 public:
  static Result<AnchorLock> Take(const std::filesystem::path& anchor) {
    std::string path = anchor.string() + ".lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      int err = errno;
      std::string m = "open " + path + ": " + std::strerror(err);
      return err == EACCES ? Status::PermissionDenied(m) : Status::Internal(m);
    }
    if (Status owned = AdoptDirectoryOwner(fd, anchor.has_parent_path()
                                                   ? anchor.parent_path()
                                                   : std::filesystem::path("."));
        !owned.ok()) {
      ::close(fd);
      return owned;
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::Internal("flock " + path + ": " + std::strerror(err));
    }
    return AnchorLock(fd);
  }
  AnchorLock(AnchorLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  AnchorLock(const AnchorLock&) = delete;
  ~AnchorLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
  }

 private:
  explicit AnchorLock(int fd) : fd_(fd) {}
  int fd_;
};

Status Write(const std::filesystem::path& path, const AnchorHead& head) {
  return WriteFileAtomic(path, FormatAnchor(head), {.mode = 0600, .keep_backup = false});
}

}  // namespace

std::string FormatAnchor(const AnchorHead& head) {
  return std::string(kMagic) + " seq=" + std::to_string(head.seq) +
         " id=" + std::to_string(head.id) + " hash=" + HexEncode(head.hash) +
         " time=" + FormatRfc3339(head.written_at) + "\n";
}

Result<AnchorHead> ParseAnchor(std::string_view text) {
  size_t start = text.find(kMagic);
  if (start == std::string_view::npos) {
    return Status::InvalidArgument("not a certctl audit anchor (no \"" +
                                   std::string(kMagic) + "\")");
  }
  text = text.substr(start + kMagic.size());
  AnchorHead head;
  ASSIGN_OR_RETURN(head.seq, ParsePositive("seq", Field(text, "seq")));
  ASSIGN_OR_RETURN(head.id, ParsePositive("id", Field(text, "id")));
  auto hash = HexDecode(Field(text, "hash"));
  if (!hash.ok() || hash->size() != 32) {
    return Status::InvalidArgument("hash is not 64 hex digits");
  }
  head.hash = std::move(hash).value();
  auto time = ParseRfc3339(Field(text, "time"));
  if (!time.ok()) return Status::InvalidArgument("time is not an RFC 3339 time");
  head.written_at = *time;
  return head;
}

Result<AnchorHead> ReadAnchorFile(const std::filesystem::path& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return Status(text.status().code(), "audit anchor: " + text.status().message());
  }
  auto head = ParseAnchor(*text);
  if (!head.ok()) {
    return Status::InvalidArgument("audit anchor " + path.string() + ": " +
                                   head.status().message());
  }
  return head;
}

Result<bool> AdvanceAnchorFile(const std::filesystem::path& path,
                               const AnchorHead& head) {
  ASSIGN_OR_RETURN(AnchorLock lock, AnchorLock::Take(path));
  auto current = ReadAnchorFile(path);
  if (current.ok() && current->seq >= head.seq) return false;
  if (!current.ok() && current.status().code() != StatusCode::kNotFound) {
    return current.status();
  }
  RETURN_IF_ERROR(Write(path, head));
  return true;
}

Status ReplaceAnchorFile(const std::filesystem::path& path, const AnchorHead& head) {
  ASSIGN_OR_RETURN(AnchorLock lock, AnchorLock::Take(path));
  return Write(path, head);
}

}  // namespace certctl::audit
