// The SSH front end on the gateway's accept loop.
#include "proto/ssh/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>

#include "proto/ssh/session.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;

namespace {

// Closes a connection the gateway will not serve. SSH has no way to say why before the key
// exchange but the identification line's preamble, which OpenSSH prints: the reason goes
// there. Never waits.
void refuse_connection(asio::ip::tcp::socket& socket, const gateway::Refusal& refusal) {
  const std::string line = "portcullis: " + refusal.message + "\r\n";
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.send(asio::buffer(line), 0, ignored);
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace

Server::Server(net::IoThreads& threads, std::shared_ptr<const gateway::GatewayContext> context)
    : loop_(
          "ssh", threads, std::move(context),
          [this](
              gateway::AcceptedConnection connection) -> std::shared_ptr<gateway::ServedSession> {
            return std::make_shared<Session>(std::move(connection), host_keys_);
          },
          &refuse_connection) {}

Server::~Server() = default;

Result<void> Server::start(const config::Endpoint& listen) {
  auto keys = HostKeys::load(loop_.context_source().load()->config->identity.ssh.host_key_file);
  if (!keys) return keys.error();
  host_keys_ = std::move(*keys);
  // What clients put in known_hosts; the key is kept across restarts.
  spdlog::info("event=ssh_host_key key={:?}", host_keys_->public_key_line());
  return loop_.start(listen.host, listen.port);
}

void Server::stop() {
  loop_.stop();
}

std::unique_ptr<gateway::FrontEnd> make_front_end(const gateway::FrontEndSetup& setup) {
  auto server = std::make_unique<Server>(setup.threads, setup.context);
  server->cap_sessions(setup.session_cap);
  return server;
}

}  // namespace portcullis::proto::ssh
