// ApiServer: the REST API and /metrics on `listen.http`, served on a thread of its own.
//
// Why not on the gateway's I/O threads: those carry the data path and must never wait, and
// the API's work waits — journal reads and key lookups block on the state store — and comes in
// bursts (a dashboard polling, an auditor exporting) that would add latency to every session
// of the thread it landed on. One thread is plenty for an API used by operators, auditors and
// a metrics scraper; the journal reads themselves run on the JournalReader's thread, so a
// long verify never delays a health probe.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "api/context.h"
#include "api/endpoint.h"
#include "api/journal_reader.h"
#include "audit/journal.h"
#include "common/result.h"
#include "config/config.h"
#include "net/log_throttle.h"
#include "net/pending_connections.h"
#include "proto/mcp/server.h"
#include "store/state_store.h"

namespace portcullis::api {

struct ApiServerOptions {
  std::shared_ptr<audit::Journal> journal;  // health and metrics
  store::StateStore* state = nullptr;       // API-key lookups; must outlive the server
  // Live sessions by protocol name, for /metrics.
  std::map<std::string, std::function<std::size_t()>> active_sessions;
  review::Reviews* reviews = nullptr;  // must outlive the server, like the rest
  gateway::LiveSessions* live_sessions = nullptr;
  const GatewayMetrics* metrics = nullptr;
  const identity::SshCertificateAuthority* ssh_ca = nullptr;  // POST /api/v1/ssh/certificates
  // The other instances sharing the state store (revocations, kills, reloads; health).
  gateway::InstanceEvents* instances = nullptr;
  // Reloads this instance's configuration (POST /api/v1/reload); null: not offered.
  std::function<void()> reload;
  // The MCP endpoint at /mcp; absent: not offered.
  std::optional<proto::mcp::McpWiring> mcp;
};

class ApiServer {
 public:
  // Opens the API's journal connection and `listen`, and starts serving.
  static Result<std::unique_ptr<ApiServer>> start(const config::Endpoint& listen,
                                                  std::shared_ptr<const ApiContext> context,
                                                  ApiServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Requests from now on use `context` (token checks, groups, TLS of new connections).
  void replace_context(std::shared_ptr<const ApiContext> context) {
    context_.store(std::move(context));
  }

  // Stops accepting and ends every connection, streams included, at once. Idempotent.
  void stop();

 private:
  ApiServer(std::shared_ptr<const ApiContext> context, ApiServerOptions options);
  boost::asio::awaitable<void> accept_loop();

  // Declared before io_: the coroutines io_ holds use them until io_ is destroyed.
  ContextSource context_;
  std::unique_ptr<JournalReader> journal_reader_;
  Services services_;
  // Its sessions' sockets run on io_: closed in stop(), while io_ still exists.
  std::unique_ptr<proto::mcp::McpServer> mcp_;
  std::atomic<std::size_t> connections_{0};
  // Connections that have not sent a whole request yet, in all and per source address.
  std::shared_ptr<net::PendingConnections> pending_;
  std::unordered_map<boost::asio::ip::address, std::size_t> per_address_;  // io_ thread only
  net::LogThrottle refused_log_;
  net::LogThrottle accept_failed_log_;

  boost::asio::io_context io_{1};
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace portcullis::api
