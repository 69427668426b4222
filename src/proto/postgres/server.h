// Server: the PostgreSQL front end. It listens through the gateway's accept loop and runs a
// Session per connection; the cancel keys and the statement classifier are shared by its
// sessions. Start and stop are called from the main thread; everything else runs on the I/O
// threads.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "gateway/accept_loop.h"
#include "gateway/context.h"
#include "gateway/front_end.h"
#include "net/io_threads.h"
#include "proto/postgres/cancel_registry.h"
#include "proto/postgres/statement_classifier.h"

namespace portcullis::proto::postgres {

class Server final : public gateway::FrontEnd {
 public:
  Server(net::IoThreads& threads, std::shared_ptr<const gateway::GatewayContext> context);
  ~Server() override;

  Result<void> start(const config::Endpoint& listen) override;
  Result<void> start(const std::string& host, uint16_t port);
  // Ends every session with a FATAL "shutting down" error.
  void stop() override;
  void replace_context(std::shared_ptr<const gateway::GatewayContext> context) override {
    loop_.replace_context(std::move(context));
  }
  std::size_t active_sessions() const override { return loop_.active_sessions(); }
  Result<void> adopt(gateway::InProcessConnection connection) override {
    return loop_.adopt(std::move(connection));
  }

  // Sessions the open-file limit leaves room for. Call before start().
  void cap_sessions(std::size_t sessions) { loop_.cap_sessions(sessions); }
  std::size_t unauthenticated_sessions() const { return loop_.unauthenticated_sessions(); }
  const net::MessageBudget& message_budget() const { return loop_.message_budget(); }

 private:
  // Shared: a session torn down with its event loop may outlive the server.
  std::shared_ptr<CancelRegistry> cancels_ = std::make_shared<CancelRegistry>();
  // Statement classification memoized by text (large texts on a thread of their own), shared
  // by every session.
  std::shared_ptr<StatementClassifier> classifier_ = std::make_shared<StatementClassifier>();
  gateway::AcceptLoop loop_;
};

// The front end's entry in the table of src/proto/front_ends.cc.
std::unique_ptr<gateway::FrontEnd> make_front_end(const gateway::FrontEndSetup& setup);

}  // namespace portcullis::proto::postgres
