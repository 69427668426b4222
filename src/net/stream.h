// Stream: a TCP connection that may be upgraded to TLS after a protocol-level negotiation
// (PostgreSQL's SSLRequest). Plain connections carry no TLS state at all, which keeps an idle
// connection small.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>

#include "common/result.h"
#include "net/tls_connection.h"

namespace portcullis::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Completion token for coroutines that handle errors as values instead of exceptions.
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

class Stream {
 public:
  explicit Stream(tcp::socket socket) : socket_(std::move(socket)) {}
  // The TLS state refers to socket_: a Stream stays where it was made.
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  tcp::socket& socket() { return socket_; }
  bool is_tls() const { return tls_ != nullptr; }
  asio::any_io_executor get_executor() { return socket_.get_executor(); }

  // Server side of a TLS handshake. `early`: bytes of it already read from the socket (a
  // MySQL client does not wait for an answer to its SSLRequest). PostgreSQL's clients wait for
  // the 'S', so its front end refuses anything read early instead of passing it here.
  asio::awaitable<Result<void>> accept_tls(asio::ssl::context& context,
                                           std::string_view early = {});
  // Client side, toward a backend. `verify_host`: check the certificate names this host.
  asio::awaitable<Result<void>> connect_tls(asio::ssl::context& context,
                                            const std::string& server_name, bool verify_host);

  // Over TLS, into the first non-empty buffer of the sequence.
  template <class MutableBuffers>
  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(const MutableBuffers& buffers) {
    if (tls_) {
      for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
           ++it) {
        const asio::mutable_buffer buffer(*it);
        if (buffer.size() > 0) co_return co_await tls_->read_some(buffer);
      }
      co_return std::tuple(error_code{}, std::size_t{0});
    }
    co_return co_await socket_.async_read_some(buffers, use_nothrow);
  }

  // Whether a read may wait for readability holding no buffer (relays do, so that a quiet
  // connection holds none): always in plain TCP; over TLS when OpenSSL holds no received
  // bytes that the socket would not announce again.
  bool can_wait_unbuffered() const { return tls_ == nullptr || tls_->nothing_buffered(); }

  // After a wait for readability: reads what the connection holds now, without a second
  // asynchronous operation; `would_block` if it holds nothing after all (over TLS also when
  // only part of a record has arrived).
  std::size_t read_now(const asio::mutable_buffer& buffer, error_code& ec) {
    if (tls_) return tls_->read_now(buffer, ec);
    if (!socket_.non_blocking()) {
      socket_.non_blocking(true, ec);
      if (ec) return 0;
    }
    return socket_.read_some(buffer, ec);
  }

  template <class ConstBuffers>
  asio::awaitable<std::tuple<error_code, std::size_t>> write(const ConstBuffers& buffers) {
    if (tls_) co_return co_await write_tls(buffers);
    co_return co_await asio::async_write(socket_, buffers, use_nothrow);
  }

  // Closes the socket at once; pending operations complete with an error.
  void close();

  // Name of the negotiated TLS version, or "none".
  std::string tls_version() const;

 private:
  // Small pieces (a relay's messages between the ones it rewrote) are gathered into one
  // record, as writev gathers them in plain TCP: a record per piece would cost a system call
  // and ~22 bytes of framing each.
  static constexpr std::size_t kMaxGathered = 64 * 1024;

  template <class ConstBuffers>
  asio::awaitable<std::tuple<error_code, std::size_t>> write_tls(const ConstBuffers& buffers) {
    const auto begin = asio::buffer_sequence_begin(buffers);
    const auto end = asio::buffer_sequence_end(buffers);
    const std::size_t total = asio::buffer_size(buffers);
    if (begin == end || std::next(begin) == end || total > kMaxGathered) {
      std::size_t written = 0;
      for (auto it = begin; it != end; ++it) {
        const asio::const_buffer buffer(*it);
        auto [ec, n] = co_await tls_->write_all(buffer.data(), buffer.size());
        written += n;
        if (ec) co_return std::tuple(ec, written);
      }
      co_return std::tuple(error_code{}, written);
    }
    std::string gathered(total, '\0');
    asio::buffer_copy(asio::buffer(gathered), buffers);
    co_return co_await tls_->write_all(gathered.data(), gathered.size());
  }

  tcp::socket socket_;
  std::unique_ptr<TlsConnection> tls_;
};

}  // namespace portcullis::net
