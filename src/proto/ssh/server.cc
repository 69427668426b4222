// The SSH front end on the gateway's accept loop.
#include "proto/ssh/server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "proto/ssh/session.h"

namespace portcullis::proto::ssh {
namespace asio = boost::asio;

namespace {

// A connection the gateway will not serve is told why in a line before the identification
// string, the only place SSH allows before the key exchange (OpenSSH's client does not print
// it; it reports the closed connection, exit status 255). The gateway logs the refusal.
std::string refuse_connection(const gateway::Refusal& refusal) {
  return "portcullis: " + refusal.message + "\r\n";
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

Result<void> Server::load_host_keys() {
  std::lock_guard lock(host_keys_mutex_);
  if (host_keys_) return {};
  auto keys = HostKeys::load(loop_.context_source().load()->config->identity.ssh.host_key_file);
  if (!keys) return keys.error();
  host_keys_ = std::move(*keys);
  // What clients put in known_hosts; the key is kept across restarts.
  spdlog::info("event=ssh_host_key key={:?}", host_keys_->public_key_line());
  return {};
}

Result<void> Server::start(const config::Endpoint& listen) {
  if (auto loaded = load_host_keys(); !loaded) return loaded;
  return loop_.start(listen.host, listen.port);
}

Result<void> Server::adopt(gateway::InProcessConnection connection) {
  // The loop posts the connection to its thread after this: the key is set before the
  // session that reads it is made.
  if (auto loaded = load_host_keys(); !loaded) {
    ::close(connection.fd);
    return loaded;
  }
  return loop_.adopt(std::move(connection));
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
