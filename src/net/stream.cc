// TLS upgrade and shutdown of a Stream.
#include "net/stream.h"

#include <fmt/format.h>
#include <openssl/err.h>

#include <boost/asio/ssl/error.hpp>

namespace portcullis::net {
namespace {

std::string describe(const error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    char text[256];
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), text, sizeof text);
    return text;
  }
  return ec.message();
}

}  // namespace

asio::awaitable<Result<void>> Stream::accept_tls(asio::ssl::context& context,
                                                 std::string_view early) {
  tls_ = std::make_unique<TlsConnection>(socket_, context, TlsConnection::Role::server);
  if (!early.empty()) tls_->feed_early_bytes(early);
  if (auto ec = co_await tls_->handshake(); ec)
    co_return make_error(fmt::format("TLS handshake failed: {}", describe(ec)));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Stream::connect_tls(asio::ssl::context& context,
                                                  const std::string& server_name,
                                                  bool verify_host) {
  tls_ = std::make_unique<TlsConnection>(socket_, context, TlsConnection::Role::client);
  // SNI, and the name the certificate must carry when verifying.
  if (!tls_->expect_server_name(server_name, verify_host))
    co_return make_error(fmt::format(
        "TLS handshake failed: cannot check the certificate against \"{}\"", server_name));
  if (auto ec = co_await tls_->handshake(); ec)
    co_return make_error(fmt::format("TLS handshake failed: {}", describe(ec)));
  co_return Result<void>{};
}

void Stream::close() {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

std::string Stream::tls_version() const {
  if (!tls_) return "none";
  return tls_->version();
}

}  // namespace portcullis::net
