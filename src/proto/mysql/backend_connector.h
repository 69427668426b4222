// Opening a backend connection for a session: TCP, the backend's greeting, TLS as the
// connection's setting says, and authentication with the credentials the gateway holds
// (mysql_native_password, caching_sha2_password fast and full, mysql_clear_password over TLS),
// up to the backend's OK.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "config/config.h"
#include "proto/mysql/capabilities.h"
#include "proto/mysql/handshake.h"
#include "proto/mysql/packet_channel.h"

namespace portcullis::proto::mysql {

struct BackendTarget {
  const config::ConnectionConfig* connection = nullptr;
  const config::CredentialProfile* credentials = nullptr;
  // Context for TLS toward this backend; null for `tls: disable`.
  boost::asio::ssl::context* tls_context = nullptr;
  std::size_t max_message_size = 0;
  std::chrono::milliseconds timeout{0};
  // What the client asked for, within what the gateway relays: the backend gets the part of
  // it the backend offers.
  Capabilities client_capabilities = 0;
  uint8_t charset = kDefaultCharset;
  // The client's connection attributes (program name, version), passed on.
  std::vector<std::pair<std::string, std::string>> attributes;
};

struct BackendConnection {
  std::unique_ptr<PacketChannel> channel;
  Greeting greeting;
  Capabilities capabilities = 0;  // negotiated: what both the client and the backend use
  uint16_t status = 0;            // from the backend's OK
};

// Why a backend could not be opened: a MySQL error number, SQLSTATE and a message fit for the
// caller (never the backend user or password).
struct BackendFailure {
  uint16_t code = 0;
  std::string sql_state;
  std::string message;
};

using BackendOutcome = std::variant<BackendConnection, BackendFailure>;

boost::asio::awaitable<BackendOutcome> connect_backend(const BackendTarget& target);

}  // namespace portcullis::proto::mysql
