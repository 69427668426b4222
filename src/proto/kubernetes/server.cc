// The Kubernetes front end on the gateway's accept loop.
#include "proto/kubernetes/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "proto/kubernetes/listener_certificate.h"
#include "proto/kubernetes/session.h"
#include "proto/kubernetes/status.h"

namespace portcullis::proto::kubernetes {
namespace {

// A connection the gateway will not serve (too many) is told so in plain HTTP before the TLS
// handshake: kubectl reports the broken handshake, and the gateway logs the refusal.
std::string refuse_connection(const gateway::Refusal& refusal) {
  const auto body = status_json(status_of(refusal.reason), "portcullis: " + refusal.message);
  return fmt::format(
      "HTTP/1.1 {} Refused\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      status_of(refusal.reason).http, body.size(), body);
}

}  // namespace

Server::Server(net::IoThreads& threads, std::shared_ptr<const gateway::GatewayContext> context)
    : loop_(
          "kubernetes", threads, std::move(context),
          [this](
              gateway::AcceptedConnection connection) -> std::shared_ptr<gateway::ServedSession> {
            auto tls = connection.in_process ? in_process_tls_ : tls_;
            return std::make_shared<Session>(std::move(connection), std::move(tls));
          },
          &refuse_connection) {}

Server::~Server() = default;

Result<void> Server::start(const config::Endpoint& listen) {
  const auto context = loop_.context_source().load();
  if (context->client_tls) {
    tls_ = context->client_tls;
  } else {
    const auto file = listener_certificate_file(*context->config);
    auto tls = load_or_create_listener_tls(file, listen.host);
    if (!tls) return make_error(fmt::format("kubernetes listener: {}", tls.error().message));
    tls_ = std::move(*tls);
    spdlog::info("event=kubernetes_listener_certificate file={:?}", file.string());
  }
  return loop_.start(listen.host, listen.port);
}

Result<void> Server::adopt(gateway::InProcessConnection connection) {
  {
    std::lock_guard lock(in_process_tls_mutex_);
    if (!in_process_tls_) {
      auto tls = make_in_process_tls();
      if (!tls) {
        ::close(connection.fd);
        return make_error(fmt::format("kubernetes: {}", tls.error().message));
      }
      in_process_tls_ = std::move(*tls);
    }
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

}  // namespace portcullis::proto::kubernetes
