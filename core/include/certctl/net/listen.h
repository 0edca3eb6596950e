// Binding certctld's listening sockets, and checking that they could be
// bound.
//
// certctld's listeners bind through BindListener; `certctl-admin config
// check` calls ProbeListenAddress, which binds the same way and lets go at
// once, so that the check refuses exactly what start-up would.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "certctl/util/status.h"

namespace certctl::net {

// Resolves `address` ("host:port", "[::1]:8443") as a passive numeric-service
// address, then opens `acceptor` on the first endpoint, sets SO_REUSEADDR,
// binds and listens. Every failure is a Configuration error that starts with
// `key` (e.g. "listen_api (CERTCTL_LISTEN_API)") and names the address and
// the system's reason ("Address already in use").
// `cause`, when given, receives the system's error code of a failed step.
Status BindListener(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                    std::string_view key, boost::system::error_code* cause = nullptr);

// BindListener on a socket of its own, closed before returning: OK when
// certctld could listen on `address` now. A port another process listens on
// is AlreadyExists with the message BindListener gives; every other failure
// is BindListener's Configuration error. Thread-safe.
Status ProbeListenAddress(const std::string& address, std::string_view key);

}  // namespace certctl::net
