// Session: one client connection through the gateway, from its first packet to its last.
// It authenticates the caller, opens the backend with the gateway's credentials, then relays
// messages both ways; every command the caller sends passes the decision point first.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "identity/identity.h"
#include "net/async_lock.h"
#include "net/stream.h"
#include "policy/access.h"
#include "proto/postgres/cancel_registry.h"
#include "proto/postgres/encoder.h"
#include "proto/postgres/gateway_context.h"
#include "proto/postgres/message.h"
#include "proto/postgres/statement_tracker.h"

namespace portcullis::proto::postgres {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket client, std::shared_ptr<const GatewayContext> context,
          std::shared_ptr<CancelRegistry> cancels, bool loopback_listener);
  ~Session();

  // Runs the whole session; returns when both connections are closed.
  boost::asio::awaitable<void> run();
  // Ends the session with a FATAL error to the client (gateway shutdown). Same thread only.
  void terminate(std::string_view sqlstate, std::string message);

  const std::string& id() const { return id_; }

 private:
  // What the relay does with a message the client sent.
  enum class Action { forward, drop, close };

  // A point where the backend will answer with ReadyForQuery (a Query, a Sync, a
  // FunctionCall), and what the gateway must add there.
  struct SyncPoint {
    bool synthetic = false;  // refused before reaching the backend: the gateway answers
    bool backend_errored = false;
    std::string error;  // an ErrorResponse the gateway owes the client at this point
  };

  boost::asio::awaitable<bool> handshake();
  boost::asio::awaitable<bool> authenticate_and_connect(const StartupMessage& startup);
  boost::asio::awaitable<void> handle_cancel(const CancelRequest& request);
  boost::asio::awaitable<void> relay();
  boost::asio::awaitable<void> pump_client_to_backend();
  boost::asio::awaitable<void> pump_backend_to_client();
  boost::asio::awaitable<void> idle_watchdog();

  Action on_client_message(const Message& message);
  Action decide(policy::Command command, bool extended);
  // Answers a refused command with an ErrorResponse, in order with the backend's answers.
  void refuse(std::string_view sqlstate, std::string_view message, bool extended);
  // Keeps the statement tracker and the sync points in step with a backend message.
  bool follow_backend_message(char type);
  // Appends the synthetic answers at the head of the sync queue to `out`.
  void drain_synthetic(std::string& out);
  boost::asio::awaitable<void> write_to_client(std::string bytes);
  boost::asio::awaitable<void> fail(std::string_view sqlstate, std::string message);
  bool plaintext_allowed() const;

  std::shared_ptr<const GatewayContext> context_;
  // Shared: a session torn down with its event loop may outlive the server.
  std::shared_ptr<CancelRegistry> cancels_;
  bool loopback_listener_;
  std::string id_;
  std::string client_address_;
  std::chrono::steady_clock::time_point started_;

  std::shared_ptr<net::Stream> client_;
  std::shared_ptr<net::Stream> backend_;
  net::AsyncLock client_write_lock_;

  std::optional<identity::Identity> identity_;
  std::optional<policy::Grant> grant_;
  std::optional<BackendKeyData> gateway_key_;
  std::string backend_pending_;  // bytes the backend sent with its first ReadyForQuery

  StatementTracker statements_;
  std::deque<SyncPoint> sync_points_;
  bool skipping_until_sync_ = false;  // an extended-protocol message was refused
  std::string owed_error_;            // the ErrorResponse owed at the next Sync
  char transaction_status_ = 'I';
  std::chrono::steady_clock::time_point last_client_activity_;
  bool terminated_ = false;

  uint64_t bytes_from_client_ = 0;
  uint64_t bytes_to_client_ = 0;
  uint64_t commands_ = 0;
};

}  // namespace portcullis::proto::postgres
