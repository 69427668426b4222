// The PostgreSQL front end on the gateway's accept loop.
#include "proto/postgres/server.h"

#include "proto/postgres/encoder.h"
#include "proto/postgres/refusal_codes.h"
#include "proto/postgres/session.h"

namespace portcullis::proto::postgres {
namespace asio = boost::asio;

namespace {

// A connection the gateway will not serve gets a FATAL error.
std::string refuse_connection(const gateway::Refusal& refusal) {
  std::string bytes;
  const std::string message = "portcullis: " + refusal.message;
  append_error_response(bytes, {.severity = Severity::fatal,
                                .sqlstate = sqlstate_of(refusal.reason),
                                .message = message,
                                .detail = {},
                                .hint = {}});
  return bytes;
}

}  // namespace

Server::Server(net::IoThreads& threads, std::shared_ptr<const gateway::GatewayContext> context)
    : loop_(
          "postgres", threads, std::move(context),
          [this](
              gateway::AcceptedConnection connection) -> std::shared_ptr<gateway::ServedSession> {
            return std::make_shared<Session>(std::move(connection), cancels_, classifier_);
          },
          &refuse_connection) {}

Server::~Server() = default;

Result<void> Server::start(const config::Endpoint& listen) {
  return start(listen.host, listen.port);
}

Result<void> Server::start(const std::string& host, uint16_t port) {
  return loop_.start(host, port);
}

void Server::stop() {
  loop_.stop();
}

std::unique_ptr<gateway::FrontEnd> make_front_end(const gateway::FrontEndSetup& setup) {
  auto server = std::make_unique<Server>(setup.threads, setup.context);
  server->cap_sessions(setup.session_cap);
  return server;
}

}  // namespace portcullis::proto::postgres
