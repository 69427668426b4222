// Connecting to a Kubernetes API server.
#include "proto/kubernetes/upstream.h"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/stream.h"

namespace portcullis::proto::kubernetes {
namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {
using net::use_nothrow;
}  // namespace

UpstreamConnection::UpstreamConnection(asio::any_io_executor executor,
                                       std::shared_ptr<asio::ssl::context> tls)
    : tls_(std::move(tls)), stream_(beast::tcp_stream(std::move(executor)), *tls_) {}

asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> UpstreamConnection::open(
    const config::Endpoint& address, std::shared_ptr<asio::ssl::context> tls,
    std::chrono::steady_clock::duration timeout) {
  auto executor = co_await asio::this_coro::executor;
  std::unique_ptr<UpstreamConnection> upstream(new UpstreamConnection(executor, std::move(tls)));
  const bool ipv6 = address.host.find(':') != std::string::npos;
  upstream->host_header_ = ipv6 ? fmt::format("[{}]:{}", address.host, address.port)
                                : fmt::format("{}:{}", address.host, address.port);
  auto& tcp = beast::get_lowest_layer(upstream->stream_);
  tcp.expires_after(timeout);
  asio::ip::tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(address.host, std::to_string(address.port), use_nothrow);
  if (resolve_ec)
    co_return make_error(fmt::format("cannot resolve {}: {}", address.host, resolve_ec.message()));
  auto [connect_ec, connected] = co_await tcp.async_connect(endpoints, use_nothrow);
  if (connect_ec)
    co_return make_error(
        fmt::format("cannot connect to {}: {}", upstream->host_header_, connect_ec.message()));
  beast::error_code ignored;
  tcp.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  // The certificate must name the server as the connection's address does (a name or an
  // address); SNI only for a name.
  SSL* ssl = upstream->stream_.native_handle();
  boost::system::error_code not_an_address;
  asio::ip::make_address(address.host, not_an_address);
  if (not_an_address) SSL_set_tlsext_host_name(ssl, address.host.c_str());
  upstream->stream_.set_verify_callback(asio::ssl::host_name_verification(address.host));
  auto [handshake_ec] =
      co_await upstream->stream_.async_handshake(asio::ssl::stream_base::client, use_nothrow);
  if (handshake_ec)
    co_return make_error(
        fmt::format("TLS with {} failed: {}", upstream->host_header_, handshake_ec.message()));
  co_return upstream;
}

void UpstreamConnection::close() {
  auto& tcp = beast::get_lowest_layer(stream_);
  beast::error_code ignored;
  tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  tcp.close();
}

}  // namespace portcullis::proto::kubernetes
