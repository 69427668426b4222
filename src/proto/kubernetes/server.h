// Server: the Kubernetes front end. An HTTPS listener on the gateway's accept loop that kubectl
// and the client libraries use unchanged (a kubeconfig whose server is
// https://GATEWAY:16443/k8s/CONNECTION and whose token is the caller's); a Session per client
// connection.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>

#include "gateway/accept_loop.h"
#include "gateway/front_end.h"

namespace portcullis::proto::kubernetes {

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
  // The MCP endpoint's kubernetes tool: an HTTPS client inside the process.
  Result<void> adopt(gateway::InProcessConnection connection) override;

 private:
  // The listener's TLS: the `tls` section's certificate, or the gateway's own
  // (listener_certificate.h). Set in start(), before the first connection.
  std::shared_ptr<boost::asio::ssl::context> tls_;
  // In-process connections' TLS, made on the first one: the front end may serve the MCP
  // endpoint with no listener (and no listener certificate) of its own, and may be asked to
  // before start() has run. Written under the mutex; sessions read it after the loop's post.
  std::mutex in_process_tls_mutex_;
  std::shared_ptr<boost::asio::ssl::context> in_process_tls_;
  gateway::AcceptLoop loop_;
};

// The front end's entry in the table of src/proto/front_ends.cc.
std::unique_ptr<gateway::FrontEnd> make_front_end(const gateway::FrontEndSetup& setup);

}  // namespace portcullis::proto::kubernetes
