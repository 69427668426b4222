// Server: the PostgreSQL front end's listeners, one per I/O thread, and the sessions they
// accept. Start and stop are called from the main thread; everything else runs on the
// I/O threads.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "net/io_threads.h"
#include "net/log_throttle.h"
#include "net/message_budget.h"
#include "net/pending_connections.h"
#include "proto/postgres/cancel_registry.h"
#include "proto/postgres/gateway_context.h"
#include "proto/postgres/session.h"
#include "proto/postgres/statement_classifier.h"

namespace portcullis::proto::postgres {

class Session;

class Server {
 public:
  Server(net::IoThreads& threads, std::shared_ptr<const GatewayContext> context);
  ~Server();

  // Opens host:port on every I/O thread and starts accepting.
  Result<void> start(const std::string& host, uint16_t port);
  // Stops accepting and ends every session with a FATAL "shutting down" error.
  void stop();

  // New sessions use `context` from now on; live sessions keep the one they started with.
  // The caps on unauthenticated connections and the buffer budget follow it at once.
  void replace_context(std::shared_ptr<const GatewayContext> context);

  // Sessions the open-file limit leaves room for (net::sessions_within): live connections
  // are capped at the lower of this and limits.max_connections. Call before start().
  void cap_sessions(std::size_t sessions) { descriptor_cap_ = sessions; }

  std::size_t active_sessions() const { return active_sessions_.load(); }
  std::size_t unauthenticated_sessions() const { return pending_->total(); }
  const net::MessageBudget& message_budget() const { return *budget_; }

 private:
  struct Slot;  // one I/O thread's listener and sessions
  void accept_on(Slot& slot);
  // Closes a connection the gateway will not serve, with a FATAL error when it fits the
  // socket's send buffer at once (it always does on a new connection); never waits.
  static void refuse(boost::asio::ip::tcp::socket& socket, std::string_view sqlstate,
                     std::string_view message);

  net::IoThreads& threads_;
  ContextSource context_;
  std::shared_ptr<CancelRegistry> cancels_ = std::make_shared<CancelRegistry>();
  // Statement classification memoized by text (large texts on a thread of their own), shared
  // by every session.
  std::shared_ptr<StatementClassifier> classifier_ = std::make_shared<StatementClassifier>();
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<std::size_t> active_sessions_{0};
  std::size_t descriptor_cap_ = SIZE_MAX;
  std::shared_ptr<net::PendingConnections> pending_;
  std::shared_ptr<net::MessageBudget> budget_;
  // Lines a peer can cause at will: one a second at most.
  net::LogThrottle refused_log_;
  net::LogThrottle accept_failed_log_;
  bool loopback_ = false;
};

}  // namespace portcullis::proto::postgres
