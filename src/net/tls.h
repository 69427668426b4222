// TLS contexts: one server context for client-facing listeners, client contexts toward
// backends. Built once per configuration snapshot and shared by all sessions.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>

#include "common/result.h"

namespace portcullis::net {

// TLS 1.2 or newer, with the certificate chain and key from PEM files.
Result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(
    const std::filesystem::path& cert_file, const std::filesystem::path& key_file);

// Toward a backend. With `verify`, the peer certificate must chain to `ca_file` (or to the
// system roots when it is empty); the host name is checked per connection by Stream.
Result<std::shared_ptr<boost::asio::ssl::context>> make_client_tls_context(
    bool verify, const std::filesystem::path& ca_file);

// The same context, presenting a client certificate (a Kubernetes credential).
Result<std::shared_ptr<boost::asio::ssl::context>> use_client_certificate(
    std::shared_ptr<boost::asio::ssl::context> context, const std::filesystem::path& cert_file,
    const std::filesystem::path& key_file);

}  // namespace portcullis::net
