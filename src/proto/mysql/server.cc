// The MySQL front end on the gateway's accept loop.
#include "proto/mysql/server.h"

#include "proto/mysql/error_codes.h"
#include "proto/mysql/packet.h"
#include "proto/mysql/response.h"
#include "proto/mysql/session.h"

namespace portcullis::proto::mysql {
namespace asio = boost::asio;

namespace {

// A connection the gateway will not serve gets an ERR packet in place of the greeting, as from
// a server that is full.
std::string refuse_connection(const gateway::Refusal& refusal) {
  const auto code = error_code_of(refusal.reason);
  std::string bytes;
  append_packet(bytes,
                encode_err({.code = code.code,
                            .sql_state = std::string(code.sql_state),
                            .message = "portcullis: " + refusal.message}),
                0);
  return bytes;
}

}  // namespace

Server::Server(net::IoThreads& threads, std::shared_ptr<const gateway::GatewayContext> context)
    : loop_(
          "mysql", threads, std::move(context),
          [this](
              gateway::AcceptedConnection connection) -> std::shared_ptr<gateway::ServedSession> {
            return std::make_shared<Session>(std::move(connection), thread_ids_);
          },
          &refuse_connection) {}

Server::~Server() = default;

Result<void> Server::start(const config::Endpoint& listen) {
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

}  // namespace portcullis::proto::mysql
