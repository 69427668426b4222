// Stream: a TCP connection that may be upgraded to TLS after a protocol-level negotiation
// (PostgreSQL's SSLRequest). Plain connections carry no TLS state at all, which keeps an idle
// connection small.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <string>
#include <tuple>

#include "common/result.h"

namespace portcullis::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Completion token for coroutines that handle errors as values instead of exceptions.
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

class Stream {
 public:
  explicit Stream(tcp::socket socket) : socket_(std::move(socket)) {}

  tcp::socket& socket() { return socket_; }
  bool is_tls() const { return tls_ != nullptr; }
  asio::any_io_executor get_executor() { return socket_.get_executor(); }

  // Server side of a TLS handshake (after answering 'S' to SSLRequest).
  asio::awaitable<Result<void>> accept_tls(asio::ssl::context& context);
  // Client side, toward a backend. `verify_host`: check the certificate names this host.
  asio::awaitable<Result<void>> connect_tls(asio::ssl::context& context,
                                            const std::string& server_name, bool verify_host);

  template <class MutableBuffers>
  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(const MutableBuffers& buffers) {
    if (tls_) co_return co_await tls_->async_read_some(buffers, use_nothrow);
    co_return co_await socket_.async_read_some(buffers, use_nothrow);
  }

  // Whether a read may wait for readability holding no buffer (relays do, so that a quiet
  // connection holds none): not over TLS, where OpenSSL may hold decrypted bytes that the
  // socket does not show.
  bool can_wait_unbuffered() const { return tls_ == nullptr; }

  // After a wait for readability: reads what the (plain) socket holds now, without a second
  // asynchronous operation; `would_block` if it holds nothing after all.
  std::size_t read_now(const asio::mutable_buffer& buffer, error_code& ec) {
    if (!socket_.non_blocking()) {
      socket_.non_blocking(true, ec);
      if (ec) return 0;
    }
    return socket_.read_some(buffer, ec);
  }

  template <class ConstBuffers>
  asio::awaitable<std::tuple<error_code, std::size_t>> write(const ConstBuffers& buffers) {
    if (tls_) co_return co_await asio::async_write(*tls_, buffers, use_nothrow);
    co_return co_await asio::async_write(socket_, buffers, use_nothrow);
  }

  // Closes the socket at once; pending operations complete with an error.
  void close();

  // Name of the negotiated TLS version, or "none".
  std::string tls_version() const;

 private:
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
};

}  // namespace portcullis::net
