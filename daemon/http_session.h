// One HTTP/1.1 connection: reads requests (header first, so the body limit
// can depend on the path), hands each to the router on the worker pool, and
// writes the response back on the connection's strand. Keep-alive, a timeout
// on every read and write (SessionTimeouts), header and body limits,
// 100-continue, a Date header on every response, and the connection caps
// (Connections): a session can be shed to make room, and one in the API
// listener's reserve serves only health checks and admin-key requests.
//
// Only whole requests reach the worker pool: a slow, stalled or oversized
// request costs an I/O-thread callback, never a worker. Its outcomes: 413
// (body over the limit), 431 (header over the limit), 400 (malformed, or
// a body that ends before its Content-Length), and for a client that stops
// sending, the connection closed at the read timeout.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>

#include "daemon/connections.h"
#include "daemon/http_message.h"

namespace certctl::daemon {

// Starts a session on a connection that was accepted on its own strand
// (make_strand), once shared.connections admits it; when the listener is
// full, closes the connection instead.
void StartPlainSession(boost::asio::ip::tcp::socket&& socket, ServerShared& shared,
                       ListenerKind kind);
// TLS over the socket with `ctx` (kept alive by the session).
void StartTlsSession(boost::asio::ip::tcp::socket&& socket, ServerShared& shared,
                     ListenerKind kind, std::shared_ptr<boost::asio::ssl::context> ctx);

// Logs a failed network operation unless the error is one of the harmless
// ones (the peer went away, a timeout, an operation cancelled by a drain, a
// TLS peer closing without close_notify): the one place that knows them.
void Fail(const std::shared_ptr<spdlog::logger>& logger,
          const boost::system::error_code& ec, const char* what,
          const std::string& remote);

}  // namespace certctl::daemon
