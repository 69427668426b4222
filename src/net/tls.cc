// Construction of OpenSSL contexts with the gateway's TLS settings.
#include "net/tls.h"

#include <fmt/format.h>
#include <openssl/err.h>

namespace portcullis::net {
namespace ssl = boost::asio::ssl;

namespace {

std::string last_openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_server_tls_context(
    const std::filesystem::path& cert_file, const std::filesystem::path& key_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // No session resumption, as PostgreSQL's own server (be-secure-openssl.c): libpq does not
  // resume TLS sessions, yet with OpenSSL's defaults a TLS 1.2 client that takes no tickets
  // left its session cached in the context after the connection ended (up to 20 480 of them),
  // and every other client was sent tickets it never uses (two per TLS 1.3 handshake).
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(native, 0);
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1)
    return make_error(fmt::format("cannot load TLS certificate {}: {}", cert_file.string(),
                                  last_openssl_error()));
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return make_error(
        fmt::format("cannot load TLS key {}: {}", key_file.string(), last_openssl_error()));
  if (SSL_CTX_check_private_key(native) != 1)
    return make_error(fmt::format("TLS key {} does not match certificate {}", key_file.string(),
                                  cert_file.string()));
  return context;
}

Result<std::shared_ptr<ssl::context>> make_client_tls_context(
    bool verify, const std::filesystem::path& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (verify) {
    if (ca_file.empty()) {
      if (SSL_CTX_set_default_verify_paths(native) != 1)
        return make_error("cannot load the system's trusted certificates");
    } else if (SSL_CTX_load_verify_locations(native, ca_file.c_str(), nullptr) != 1) {
      return make_error(
          fmt::format("cannot load CA file {}: {}", ca_file.string(), last_openssl_error()));
    }
    context->set_verify_mode(ssl::verify_peer);
  } else {
    context->set_verify_mode(ssl::verify_none);
  }
  return context;
}

Result<std::shared_ptr<ssl::context>> use_client_certificate(
    std::shared_ptr<ssl::context> context, const std::filesystem::path& cert_file,
    const std::filesystem::path& key_file) {
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1)
    return make_error(fmt::format("cannot load the client certificate {}: {}", cert_file.string(),
                                  last_openssl_error()));
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(native) != 1)
    return make_error(
        fmt::format("cannot load the client key {} (or it does not match the "
                    "certificate): {}",
                    key_file.string(), last_openssl_error()));
  return context;
}

}  // namespace portcullis::net
