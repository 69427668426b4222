// TLS upgrade and shutdown of a Stream.
#include "net/stream.h"

#include <fmt/format.h>
#include <openssl/err.h>

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

asio::awaitable<Result<void>> Stream::accept_tls(asio::ssl::context& context) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, context);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, use_nothrow);
  if (ec) co_return make_error(fmt::format("TLS handshake failed: {}", describe(ec)));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Stream::connect_tls(asio::ssl::context& context,
                                                  const std::string& server_name,
                                                  bool verify_host) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, context);
  // SNI, and the name the certificate must carry when verifying.
  SSL_set_tlsext_host_name(tls_->native_handle(), server_name.c_str());
  if (verify_host) {
    tls_->set_verify_mode(asio::ssl::verify_peer);
    tls_->set_verify_callback(asio::ssl::host_name_verification(server_name));
  }
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, use_nothrow);
  if (ec) co_return make_error(fmt::format("TLS handshake failed: {}", describe(ec)));
  co_return Result<void>{};
}

void Stream::close() {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

std::string Stream::tls_version() const {
  if (!tls_) return "none";
  return SSL_get_version(tls_->native_handle());
}

}  // namespace portcullis::net
