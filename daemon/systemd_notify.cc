#include "daemon/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace certctl::daemon {

std::string SystemdNotifySocket() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return socket ? socket : "";
}

Status NotifySystemd(const std::string& socket, std::string_view state) {
  if (socket.empty()) return Status::Ok();
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket.size() >= sizeof(address.sun_path) ||
      (socket[0] != '/' && socket[0] != '@')) {
    return Status::InvalidArgument("NOTIFY_SOCKET \"" + socket +
                                   "\" is not a socket path or @abstract name");
  }
  std::memcpy(address.sun_path, socket.data(), socket.size());
  if (socket[0] == '@') address.sun_path[0] = '\0';  // the abstract namespace
  socklen_t length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Internal(std::string("socket: ") + std::strerror(errno));
  ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&address), length);
  int error = errno;
  ::close(fd);
  if (sent != static_cast<ssize_t>(state.size())) {
    return Status::Unavailable("cannot notify systemd on " + socket + ": " +
                               std::strerror(error));
  }
  return Status::Ok();
}

}  // namespace certctl::daemon
