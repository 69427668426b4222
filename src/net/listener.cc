// Opening SO_REUSEPORT listeners.
#include "net/listener.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <boost/asio/detail/socket_option.hpp>

namespace portcullis::net {

using tcp = boost::asio::ip::tcp;
using reuse_port = boost::asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Pending connections the kernel queues per listener (as PostgreSQL's default backlog).
constexpr int kListenBacklog = 1024;

Result<tcp::acceptor> open_listener(boost::asio::io_context& context, const std::string& host,
                                    uint16_t port) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return make_error(fmt::format("invalid listen address \"{}\"", host));
  const tcp::endpoint endpoint(address, port);
  tcp::acceptor acceptor(context);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.set_option(reuse_port(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(kListenBacklog, ec);
  if (ec) return make_error(fmt::format("cannot listen on {}:{}: {}", host, port, ec.message()));
  return acceptor;
}

bool is_loopback(const boost::asio::ip::address& address) {
  if (address.is_v4()) return address.to_v4().is_loopback();
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
  return v6.is_loopback();
}

}  // namespace portcullis::net
