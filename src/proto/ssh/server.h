// Server: the SSH front end. It listens through the gateway's accept loop and runs a Session
// per connection, all presenting the gateway's host key.
#pragma once

#include <memory>

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
  void cap_sessions(std::size_t sessions) { loop_.cap_sessions(sessions); }

 private:
  std::shared_ptr<HostKeys> host_keys_;  // loaded in start(), before the first connection
  gateway::AcceptLoop loop_;
};

// The front end's entry in the table of src/proto/front_ends.cc.
std::unique_ptr<gateway::FrontEnd> make_front_end(const gateway::FrontEndSetup& setup);

}  // namespace portcullis::proto::ssh
