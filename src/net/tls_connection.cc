// OpenSSL over a non-blocking socket: every SSL call either completes or says which readiness
// it waits for, and the coroutine waits for exactly that on the socket before calling again.
#include "net/tls_connection.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <new>

namespace portcullis::net {
namespace asio = boost::asio;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE when the peer has gone
// (OpenSSL writes an alert even while reading, when a peer closes without close_notify). This
// one sends with MSG_NOSIGNAL, as Asio does for plain sockets, so that no caller depends on
// the process ignoring SIGPIPE. The BIO reaches the descriptor through the Asio socket at each
// call, never closes it, and never uses a number the socket has given up: after close() the
// kernel may hand that number to another client's connection.
int socket_of(BIO* bio) {
  auto* transport = static_cast<TlsConnection::Transport*>(BIO_get_data(bio));
  return transport->socket->is_open() ? static_cast<int>(transport->socket->native_handle()) : -1;
}

bool would_block(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

int send_without_sigpipe(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
  BIO_clear_retry_flags(bio);
  const int socket = socket_of(bio);
  if (socket < 0) {
    errno = EBADF;
    return 0;
  }
  const ssize_t sent = ::send(socket, data, size, MSG_NOSIGNAL);
  if (sent >= 0) {
    *written = static_cast<std::size_t>(sent);
    return 1;
  }
  if (would_block(errno)) BIO_set_retry_write(bio);
  return 0;  // errno stays for SSL_ERROR_SYSCALL
}

int receive(BIO* bio, char* data, std::size_t size, std::size_t* read) {
  BIO_clear_retry_flags(bio);
  auto* transport = static_cast<TlsConnection::Transport*>(BIO_get_data(bio));
  if (transport->early_read < transport->early.size()) {
    const std::size_t n = std::min(size, transport->early.size() - transport->early_read);
    std::memcpy(data, transport->early.data() + transport->early_read, n);
    transport->early_read += n;
    *read = n;
    return 1;
  }
  const int socket = socket_of(bio);
  if (socket < 0) {
    errno = EBADF;
    return 0;
  }
  const ssize_t received = ::recv(socket, data, size, 0);
  if (received > 0) {
    *read = static_cast<std::size_t>(received);
    return 1;
  }
  if (received == 0) {
    BIO_set_flags(bio, BIO_FLAGS_IN_EOF);  // BIO_eof(): the peer closed
  } else if (would_block(errno)) {
    BIO_set_retry_read(bio);
  }
  return 0;
}

long control(BIO* bio, int command, long, void*) {
  switch (command) {
    case BIO_CTRL_FLUSH:  // nothing is buffered here
      return 1;
    case BIO_CTRL_EOF:
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    default:  // no kernel TLS, no datagram controls, no chaining
      return 0;
  }
}

int created(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* socket_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "portcullis socket");
    if (m == nullptr || BIO_meth_set_write_ex(m, send_without_sigpipe) != 1 ||
        BIO_meth_set_read_ex(m, receive) != 1 || BIO_meth_set_ctrl(m, control) != 1 ||
        BIO_meth_set_create(m, created) != 1)
      throw std::bad_alloc();
    return m;
  }();
  return method;
}

}  // namespace

TlsConnection::TlsConnection(tcp::socket& socket, asio::ssl::context& context, Role role)
    : socket_(socket), ssl_(SSL_new(context.native_handle())) {
  if (!ssl_) throw std::bad_alloc();
  // A blocking socket would stall the I/O thread inside OpenSSL: handshake() fails instead.
  socket_.non_blocking(true, setup_error_);
  BIO* bio = BIO_new(socket_method());
  if (bio == nullptr) throw std::bad_alloc();
  transport_.socket = &socket_;
  BIO_set_data(bio, &transport_);
  SSL_set_bio(ssl_.get(), bio, bio);  // one reference, now the SSL's
  // Record buffers exist only while they hold something. (A write that has to wait is retried
  // from the same address, so OpenSSL may keep checking that it is.)
  SSL_set_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS);
  // Read what the socket holds, not a record header and then its body: one recv per burst
  // instead of two per record. Bytes read ahead count in SSL_has_pending.
  SSL_set_read_ahead(ssl_.get(), 1);
  if (role == Role::server) {
    SSL_set_accept_state(ssl_.get());
  } else {
    SSL_set_connect_state(ssl_.get());
  }
}

TlsConnection::~TlsConnection() = default;

bool TlsConnection::expect_server_name(const std::string& name, bool verify) {
  error_code not_an_address;
  const auto address = asio::ip::make_address(name, not_an_address);
  // RFC 6066: SNI carries host names only, never a literal address.
  if (not_an_address && SSL_set_tlsext_host_name(ssl_.get(), name.c_str()) != 1) return false;
  if (!verify) return true;
  SSL_set_verify(ssl_.get(), SSL_VERIFY_PEER, nullptr);
  // A name that cannot be set would leave only the chain checked: refuse instead.
  if (not_an_address) return SSL_set1_host(ssl_.get(), name.c_str()) == 1;
  // The address's bytes, not its text: certificates carry no IPv6 scope ("%eth0").
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    return X509_VERIFY_PARAM_set1_ip(param, bytes.data(), bytes.size()) == 1;
  }
  const auto bytes = address.to_v6().to_bytes();
  return X509_VERIFY_PARAM_set1_ip(param, bytes.data(), bytes.size()) == 1;
}

TlsConnection::error_code TlsConnection::failure(int result) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_WANT_READ:
      wants_write_ = false;
      return asio::error::would_block;
    case SSL_ERROR_WANT_WRITE:
      wants_write_ = true;
      return asio::error::would_block;
    case SSL_ERROR_ZERO_RETURN:  // close_notify
      return asio::error::eof;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0)
        return saved_errno != 0 ? error_code(saved_errno, boost::system::system_category())
                                : error_code(asio::error::eof);
      break;
    default:
      break;
  }
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  // Anything else (a callback's want, which nothing here installs) must not read as success.
  if (code == 0) return boost::system::errc::make_error_code(boost::system::errc::protocol_error);
  // Peers that close without close_notify (most PostgreSQL clients) end the stream too.
  if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
      ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
    return asio::error::eof;
  return error_code(static_cast<int>(code), asio::error::get_ssl_category());
}

TlsConnection::awaitable<TlsConnection::error_code> TlsConnection::handshake() {
  if (setup_error_) co_return setup_error_;
  for (;;) {
    // OpenSSL's error queue is per thread and shared by every connection on it.
    ERR_clear_error();
    errno = 0;
    const int result = SSL_do_handshake(ssl_.get());
    if (result == 1) {
      wants_write_ = false;
      co_return error_code{};
    }
    const auto ec = failure(result);
    if (ec != asio::error::would_block) co_return ec;
    auto [wait_ec] = co_await socket_.async_wait(
        wants_write_ ? tcp::socket::wait_write : tcp::socket::wait_read, nothrow);
    if (wait_ec) co_return wait_ec;
  }
}

std::size_t TlsConnection::read_now(asio::mutable_buffer buffer, error_code& ec) {
  ec = {};
  if (buffer.size() == 0) return 0;
  ERR_clear_error();
  errno = 0;
  std::size_t read = 0;
  const int result = SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &read);
  if (result == 1) {
    wants_write_ = false;
    return read;
  }
  ec = failure(result);
  return 0;
}

TlsConnection::awaitable<std::tuple<TlsConnection::error_code, std::size_t>>
TlsConnection::read_some(asio::mutable_buffer buffer) {
  for (;;) {
    error_code ec;
    const std::size_t read = read_now(buffer, ec);
    if (ec != asio::error::would_block) co_return std::tuple(ec, read);
    auto [wait_ec] = co_await socket_.async_wait(
        wants_write_ ? tcp::socket::wait_write : tcp::socket::wait_read, nothrow);
    if (wait_ec) co_return std::tuple(wait_ec, std::size_t{0});
  }
}

bool TlsConnection::nothing_buffered() const {
  return !wants_write_ && SSL_has_pending(ssl_.get()) == 0 &&
         transport_.early_read == transport_.early.size();
}

TlsConnection::awaitable<std::tuple<TlsConnection::error_code, std::size_t>>
TlsConnection::write_all(const void* data, std::size_t size) {
  // A write abandoned while OpenSSL held part of a record cannot be followed by another: OpenSSL
  // would finish the old record and count its length against the new data.
  if (write_abandoned_) co_return std::tuple(error_code(asio::error::broken_pipe), std::size_t{0});
  if (size == 0) co_return std::tuple(error_code{}, std::size_t{0});
  for (;;) {
    ERR_clear_error();
    errno = 0;
    std::size_t written = 0;
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE a successful call has written everything; one
    // that has to wait keeps its progress and is repeated with the same arguments.
    const int result = SSL_write_ex(ssl_.get(), data, size, &written);
    if (result == 1) co_return std::tuple(error_code{}, size);
    const int reason = SSL_get_error(ssl_.get(), result);
    if (reason != SSL_ERROR_WANT_WRITE && reason != SSL_ERROR_WANT_READ)
      co_return std::tuple(failure(result), std::size_t{0});
    write_abandoned_ = true;  // until the wait returns: also if this coroutine is destroyed
    auto [wait_ec] = co_await socket_.async_wait(
        reason == SSL_ERROR_WANT_WRITE ? tcp::socket::wait_write : tcp::socket::wait_read, nothrow);
    if (wait_ec) co_return std::tuple(wait_ec, std::size_t{0});
    write_abandoned_ = false;
  }
}

std::string TlsConnection::version() const {
  return SSL_get_version(ssl_.get());
}

}  // namespace portcullis::net
