#include "daemon/listener.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>

#include "certctl/config/config.h"
#include "certctl/net/listen.h"
#include "daemon/http_session.h"

namespace certctl::daemon {
namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(net::io_context& ioc, ListenerKind kind, ServerShared& shared)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      kind_(kind),
      shared_(shared),
      retry_timer_(acceptor_.get_executor()) {}

Result<std::shared_ptr<Listener>> Listener::Open(net::io_context& ioc,
                                                 const std::string& address,
                                                 ListenerKind kind,
                                                 ServerShared& shared) {
  const char* key = kind == ListenerKind::kApi ? "listen_api (CERTCTL_LISTEN_API)"
                                               : "listen_pki (CERTCTL_LISTEN_PKI)";
  std::shared_ptr<Listener> l(new Listener(ioc, kind, shared));
  RETURN_IF_ERROR(certctl::net::BindListener(l->acceptor_, address, key));
  boost::system::error_code ec;
  auto local = l->acceptor_.local_endpoint(ec);
  std::string host = local.address().to_string();
  if (local.address().is_v6()) host = "[" + host + "]";
  l->local_address_ = host + ":" + std::to_string(local.port());
  return l;
}

void Listener::Start() {
  net::dispatch(acceptor_.get_executor(),
                [self = shared_from_this()] { self->DoAccept(); });
}

void Listener::Stop() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->acceptor_.close(ec);
    self->retry_timer_.cancel();
  });
}

void Listener::DoAccept() {
  // Each connection gets its own strand.
  acceptor_.async_accept(
      net::make_strand(ioc_),
      [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        self->OnAccept(ec, std::move(socket));
      });
}

void Listener::OnAccept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;  // stopped
  if (ec) {
    shared_.app.metrics().CountConnectionError(
        kind_ == ListenerKind::kApi ? "api" : "pki", "accept");
    Fail(shared_.app.logger(), ec, "accept", local_address_);
    return RetryAcceptLater();
  }
  retry_delay_ = std::chrono::milliseconds(0);
  // A session the connection caps refuse closes its socket (counted in
  // certctl_connections_refused_total); accepting goes on, so that the next
  // connection can take the slot of one that is shed or finishes.
  if (shared_.app.readiness().draining()) {
    boost::system::error_code ignored;
    socket.close(ignored);
  } else if (kind_ == ListenerKind::kApi) {
    auto ctx = shared_.tls.Current();
    if (ctx) StartTlsSession(std::move(socket), shared_, kind_, std::move(ctx));
  } else {
    StartPlainSession(std::move(socket), shared_, kind_);
  }
  DoAccept();
}

void Listener::RetryAcceptLater() {
  using std::chrono::milliseconds;
  retry_delay_ = std::clamp(retry_delay_ * 2, milliseconds(10), milliseconds(1000));
  retry_timer_.expires_after(retry_delay_);
  retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || !self->acceptor_.is_open()) return;  // stopped
    self->DoAccept();
  });
}

}  // namespace certctl::daemon
