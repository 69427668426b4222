// The Kubernetes listener's certificate when the configuration has no `tls` section: kubectl
// sends a token only over HTTPS, so the gateway makes a self-signed certificate on first start
// (ECDSA P-256, for the listener's address, localhost and the loopback addresses) and keeps it
// beside its signing key; `portcullis kubeconfig` embeds it as the CA kubectl trusts.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "config/config.h"

namespace portcullis::proto::kubernetes {

// Where the certificate and its key are kept (one PEM file, owner-only).
std::filesystem::path listener_certificate_file(const config::Config& config);

// Loads the file, or creates it for `listen_host` when it does not exist.
Result<std::shared_ptr<boost::asio::ssl::context>> load_or_create_listener_tls(
    const std::filesystem::path& file, const std::string& listen_host);

// For connections made inside the gateway (the MCP endpoint's): a certificate made in memory,
// kept nowhere, that no one checks (both ends are this process; the TLS is only there because
// the front end speaks nothing else).
Result<std::shared_ptr<boost::asio::ssl::context>> make_in_process_tls();

}  // namespace portcullis::proto::kubernetes
