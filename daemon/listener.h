// Accepts connections on one address and starts a session for each: TLS for
// the API listener, plain HTTP for the PKI listener.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "daemon/connections.h"
#include "daemon/http_message.h"

namespace certctl::daemon {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds `address` ("host:port"; port 0 picks a free one). Configuration
  // error naming the address when it cannot be resolved or bound.
  static Result<std::shared_ptr<Listener>> Open(boost::asio::io_context& ioc,
                                                const std::string& address,
                                                ListenerKind kind, ServerShared& shared);

  void Start();
  // Closes the acceptor: new connections are refused from now on.
  void Stop();
  // The bound address, e.g. "127.0.0.1:8443".
  const std::string& local_address() const { return local_address_; }

 private:
  Listener(boost::asio::io_context& ioc, ListenerKind kind, ServerShared& shared);
  void DoAccept();
  void OnAccept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  // After a failed accept (out of file descriptors, say), waits before the
  // next one instead of spinning: 10 ms, doubling up to 1 s, reset by the
  // next successful accept.
  void RetryAcceptLater();

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  ListenerKind kind_;
  ServerShared& shared_;
  std::string local_address_;
  boost::asio::steady_timer retry_timer_;
  std::chrono::milliseconds retry_delay_{0};
};

}  // namespace certctl::daemon
