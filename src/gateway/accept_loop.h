// AcceptLoop: the listener every TCP front end shares. One acceptor per I/O thread
// (SO_REUSEPORT); each accepted connection is checked against limits.max_connections (and the
// open-file limit) and the caps on connections still logging in, then handed to the front
// end's session, which runs on the thread that accepted it.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"
#include "gateway/context.h"
#include "gateway/refusal.h"
#include "net/io_threads.h"
#include "net/log_throttle.h"
#include "net/message_budget.h"
#include "net/pending_connections.h"

namespace portcullis::gateway {

// What the accept loop needs of a session.
class ServedSession {
 public:
  virtual ~ServedSession() = default;
  // Runs the whole session; returns when its connections are closed.
  virtual boost::asio::awaitable<void> run() = 0;
  // The gateway stops: end the session, telling the client. Called on the session's thread.
  virtual void shut_down() = 0;
};

// A connection the loop accepted, with what its session needs from the loop.
struct AcceptedConnection {
  boost::asio::ip::tcp::socket socket;
  std::shared_ptr<const GatewayContext> context;
  const ContextSource* context_source = nullptr;  // reloads; outlives the session's commands
  bool loopback_listener = false;
  // Call once the handshake is over, however it ended: the loop counts connections still in
  // theirs (limits.max_unauthenticated).
  std::function<void()> handshake_done;
  // What buffers for large messages draw from (limits.max_buffered_total).
  std::shared_ptr<net::MessageBudget> message_budget;
  // Set for a connection made inside the gateway (the MCP endpoint's): who the session
  // records as its client ("mcp/10.0.0.7:51234"), and that the caller's transport was
  // checked where the caller came in, so the in-process socket counts as encrypted.
  std::string client_address;
  bool in_process = false;
};

// A connection made inside the gateway, handed to a front end as if accepted.
struct InProcessConnection {
  int fd = -1;  // one end of a connected socketpair; the loop owns it from now on
  std::string client_address;
};

class AcceptLoop {
 public:
  using MakeSession = std::function<std::shared_ptr<ServedSession>(AcceptedConnection)>;
  // The protocol's words for a refusal of a connection the gateway will not serve: the loop
  // sends them without waiting (a new connection's send buffer takes them at once) and closes.
  using Refuse = std::function<std::string(const Refusal&)>;

  AcceptLoop(std::string_view protocol, net::IoThreads& threads,
             std::shared_ptr<const GatewayContext> context, MakeSession make, Refuse refuse);
  ~AcceptLoop();

  Result<void> start(const std::string& host, uint16_t port);
  // Stops accepting and shuts every session down; returns once each thread has done so.
  void stop();
  // New sessions (and the caps) follow `context` from now on.
  void replace_context(std::shared_ptr<const GatewayContext> context);
  void cap_sessions(std::size_t sessions) { descriptor_cap_ = sessions; }
  // Serves `connection` on one of the I/O threads as if accepted (listening or not), under
  // the same cap on live sessions; refused (and the descriptor closed) over it. Any thread.
  Result<void> adopt(InProcessConnection connection);

  std::size_t active_sessions() const { return active_sessions_.load(); }
  std::size_t unauthenticated_sessions() const { return pending_->total(); }
  const net::MessageBudget& message_budget() const { return *budget_; }
  const ContextSource& context_source() const { return context_; }

 private:
  struct Slot;  // one I/O thread's acceptor and sessions
  void accept_on(Slot& slot);
  boost::asio::awaitable<void> accept_loop(Slot& slot);
  std::size_t connection_cap() const;
  void run_session(Slot& slot, AcceptedConnection connection);

  std::string protocol_;
  net::IoThreads& threads_;
  ContextSource context_;
  MakeSession make_;
  Refuse refuse_;
  void refuse(boost::asio::ip::tcp::socket& socket, const Refusal& refusal) const;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<std::size_t> active_sessions_{0};
  std::size_t descriptor_cap_ = SIZE_MAX;
  std::shared_ptr<net::PendingConnections> pending_;
  std::shared_ptr<net::MessageBudget> budget_;
  // Lines a peer can cause at will: one a second at most.
  net::LogThrottle refused_log_;
  net::LogThrottle accept_failed_log_;
  bool loopback_ = false;
  std::atomic<std::size_t> next_adopting_slot_{0};
};

}  // namespace portcullis::gateway
