// Opening a backend connection for a session: TCP, TLS as the connection's setting says,
// StartupMessage, and authentication with the credentials the gateway holds (SCRAM-SHA-256,
// md5, cleartext or trust), up to the backend's first ReadyForQuery.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <variant>

#include "config/config.h"
#include "net/byte_buffer.h"
#include "net/stream.h"
#include "proto/postgres/message.h"
#include "proto/postgres/startup_parameters.h"

namespace portcullis::proto::postgres {

struct BackendTarget {
  const config::ConnectionConfig* connection = nullptr;
  const config::CredentialProfile* credentials = nullptr;
  // Context for TLS toward this backend: unverified for prefer/require, verifying for
  // verify-full; null for disable.
  boost::asio::ssl::context* tls_context = nullptr;
  std::size_t max_message_size = 0;
  std::chrono::milliseconds timeout{0};
};

struct BackendConnection {
  std::shared_ptr<net::Stream> stream;
  // ParameterStatus and NoticeResponse messages from the backend's startup, as they came,
  // to be replayed to the client after its AuthenticationOk.
  std::string startup_messages;
  BackendKeyData key;
  char transaction_status = 'I';
  std::string server_version;
  // The backend reported default_transaction_read_only = on (PostgreSQL 14 and later report
  // it): every transaction of the session starts read-only.
  bool read_only = false;
  // Bytes the backend sent after its first ReadyForQuery (read in the same chunk).
  std::string pending;
};

// Why a backend could not be opened: an SQLSTATE and a message fit for the caller.
struct BackendFailure {
  std::string sqlstate;
  std::string message;
};

using BackendOutcome = std::variant<BackendConnection, BackendFailure>;

boost::asio::awaitable<BackendOutcome> connect_backend(const BackendTarget& target,
                                                       const ParameterList& parameters);

// Sends a CancelRequest for `key` to the backend at host:port on a new connection.
boost::asio::awaitable<void> send_backend_cancel(std::string host, uint16_t port,
                                                 BackendKeyData key);

}  // namespace portcullis::proto::postgres
