#include "certctl/net/listen.h"

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include "certctl/config/config.h"

namespace certctl::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Status BindListener(tcp::acceptor& acceptor, const std::string& address,
                    std::string_view key, boost::system::error_code* cause) {
  ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(address));
  boost::system::error_code ec;
  tcp::resolver resolver(acceptor.get_executor());
  auto results =
      resolver.resolve(hp.host, std::to_string(hp.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Status::Configuration(std::string(key) + ": cannot resolve " + address + ": " +
                                 ec.message());
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  auto bind_error = [&](const char* step) {
    if (cause) *cause = ec;
    return Status::Configuration(std::string(key) + ": cannot " + step + " " + address +
                                 ": " + ec.message());
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return bind_error("open");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) {
    return bind_error("configure");
  }
  if (acceptor.bind(endpoint, ec); ec) return bind_error("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return bind_error("listen on");
  }
  return Status::Ok();
}

Status ProbeListenAddress(const std::string& address, std::string_view key) {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc);
  boost::system::error_code cause;
  Status s = BindListener(acceptor, address, key, &cause);
  boost::system::error_code ignored;
  acceptor.close(ignored);
  if (cause == boost::asio::error::address_in_use)
    return Status::AlreadyExists(s.message());
  return s;
}

}  // namespace certctl::net
