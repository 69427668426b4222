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
  void replace_context(std::shared_ptr<const GatewayContext> context) {
    context_.store(std::move(context));
  }

  std::size_t active_sessions() const { return active_sessions_.load(); }

 private:
  struct Slot;  // one I/O thread's listener and sessions
  void accept_on(Slot& slot);

  net::IoThreads& threads_;
  ContextSource context_;
  std::shared_ptr<CancelRegistry> cancels_ = std::make_shared<CancelRegistry>();
  // Statement classification memoized by text (large texts on a thread of their own), shared
  // by every session.
  std::shared_ptr<StatementClassifier> classifier_ = std::make_shared<StatementClassifier>();
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<std::size_t> active_sessions_{0};
  bool loopback_ = false;
};

}  // namespace portcullis::proto::postgres
