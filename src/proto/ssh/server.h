// Server: the SSH front end. It listens through the gateway's accept loop and runs a Session
// per connection, all presenting the gateway's host key.
#pragma once

#include <memory>
#include <mutex>

#include "gateway/accept_loop.h"
#include "gateway/front_end.h"
#include "proto/ssh/host_keys.h"

namespace portcullis::proto::ssh {

class Server final : public gateway::FrontEnd {
 public:
  Server(net::IoThreads& threads, std::shared_ptr<const gateway::GatewayContext> context);
  ~Server() override;

  Result<void> start(const config::Endpoint& listen) override;
  void stop() override;
  void replace_context(std::shared_ptr<const gateway::GatewayContext> context) override {
    loop_.replace_context(std::move(context));
  }
  std::size_t active_sessions() const override { return loop_.active_sessions(); }
  // The MCP endpoint's exec tool: an in-process SSH client's connection (with or without a
  // listener of this front end's).
  Result<void> adopt(gateway::InProcessConnection connection) override;
  void cap_sessions(std::size_t sessions) { loop_.cap_sessions(sessions); }

 private:
  // Loads the host key once, by whichever comes first: start() or the first adopt().
  Result<void> load_host_keys();

  std::mutex host_keys_mutex_;
  // Set before the first connection is accepted or adopted, never changed after.
  std::shared_ptr<HostKeys> host_keys_;
  gateway::AcceptLoop loop_;
};

// The front end's entry in the table of src/proto/front_ends.cc.
std::unique_ptr<gateway::FrontEnd> make_front_end(const gateway::FrontEndSetup& setup);

}  // namespace portcullis::proto::ssh
