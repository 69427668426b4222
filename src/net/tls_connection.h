// TlsConnection: OpenSSL driven directly over a non-blocking TCP socket, waiting on the
// socket's readiness through Asio.
//
// Written by hand because asio::ssl::stream, the packaged alternative, keeps two 17 KiB
// buffers of its own per connection and routes every byte through a BIO pair holding two more
// (~68 KiB for the life of the connection, ~95 KiB per idle connection with OpenSSL's state):
// here OpenSSL reads and writes the socket itself (through a small BIO that sends with
// MSG_NOSIGNAL) and frees its record buffers whenever they are empty
// (SSL_MODE_RELEASE_BUFFERS), so an idle TLS connection keeps only its SSL state.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <tuple>

namespace portcullis::net {

class TlsConnection {
 public:
  using error_code = boost::system::error_code;
  using tcp = boost::asio::ip::tcp;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  enum class Role { server, client };

  // What the connection's BIO reads from: the early bytes first, then the socket.
  struct Transport {
    tcp::socket* socket = nullptr;
    std::string early;
    std::size_t early_read = 0;
  };

  // A connection over `socket` (which must outlive it; it is switched to non-blocking mode),
  // with the settings of `context`. Nothing is exchanged before handshake().
  TlsConnection(tcp::socket& socket, boost::asio::ssl::context& context, Role role);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  SSL* native_handle() { return ssl_.get(); }
  const SSL* native_handle() const { return ssl_.get(); }

  // Client side: send `name` as SNI (unless it is an address) and, when `verify`, require a
  // certificate issued for it (a DNS name, or an IP address matched against the certificate's
  // IP entries). False if OpenSSL cannot take the name: the handshake must not go ahead.
  [[nodiscard]] bool expect_server_name(const std::string& name, bool verify);

  // Server side, before handshake(): bytes of the handshake already read from the socket (a
  // MySQL client sends its ClientHello right behind the SSLRequest, without waiting for an
  // answer, so one read may take both). They are read before the socket.
  void feed_early_bytes(std::string_view bytes) { transport_.early.assign(bytes); }

  awaitable<error_code> handshake();

  // Reads at most `buffer.size()` bytes of application data, waiting as long as needed.
  // A close by the peer, with or without close_notify, reads as asio::error::eof.
  awaitable<std::tuple<error_code, std::size_t>> read_some(boost::asio::mutable_buffer buffer);

  // Reads what can be read without waiting; asio::error::would_block when that is nothing.
  std::size_t read_now(boost::asio::mutable_buffer buffer, error_code& ec);

  // Nothing is held inside OpenSSL that a wait on the socket would not announce: no decrypted
  // or partly received record, and no read that needs the socket writable first.
  bool nothing_buffered() const;

  // Writes all of [data, data + size) (as one or more records), waiting as long as needed. Once a
  // write has failed part-way, every later one fails (broken_pipe).
  awaitable<std::tuple<error_code, std::size_t>> write_all(const void* data, std::size_t size);

  // "TLSv1.3" and the like.
  std::string version() const;

 private:
  struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
  };

  // The outcome of an SSL call that returned `result` <= 0, as an error code; the wants
  // (read or write) become would_block, and wants_write_ records which one.
  error_code failure(int result);

  tcp::socket& socket_;
  Transport transport_;
  std::unique_ptr<SSL, SslFree> ssl_;
  error_code setup_error_;        // the socket could not be made non-blocking
  bool wants_write_ = false;      // the last read or handshake step waits for writability
  bool write_abandoned_ = false;  // a write stopped while OpenSSL held part of its record
};

}  // namespace portcullis::net
