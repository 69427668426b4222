// Server: the MySQL and MariaDB front end. It listens through the gateway's accept loop and
// runs a Session per connection; the connection ids it hands out (and KILL maps back) are
// shared by its sessions.
#pragma once

#include <memory>

#include "common/result.h"
#include "gateway/accept_loop.h"
#include "gateway/context.h"
#include "gateway/front_end.h"
#include "net/io_threads.h"
#include "proto/mysql/thread_ids.h"

namespace portcullis::proto::mysql {

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
  Result<void> adopt(gateway::InProcessConnection connection) override {
    return loop_.adopt(std::move(connection));
  }
  void cap_sessions(std::size_t sessions) { loop_.cap_sessions(sessions); }

 private:
  // Shared: a session torn down with its event loop may outlive the server.
  std::shared_ptr<ThreadIds> thread_ids_ = std::make_shared<ThreadIds>();
  gateway::AcceptLoop loop_;
};

// The front end's entry in the table of src/proto/front_ends.cc.
std::unique_ptr<gateway::FrontEnd> make_front_end(const gateway::FrontEndSetup& setup);

}  // namespace portcullis::proto::mysql
