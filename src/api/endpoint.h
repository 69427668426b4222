// What every endpoint is handed: the request, the snapshot it is served under, who is calling,
// and the server's long-lived parts. Endpoints are coroutines on the API's network thread;
// anything that blocks goes through the JournalReader.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/url/params_view.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "api/context.h"
#include "api/journal_reader.h"
#include "api/response.h"
#include "audit/journal.h"
#include "common/gateway_metrics.h"
#include "gateway/instance_events.h"
#include "gateway/live_sessions.h"
#include "identity/identity.h"
#include "identity/ssh_certificate_authority.h"
#include "proto/mcp/server.h"
#include "review/reviews.h"
#include "store/state_store.h"

namespace portcullis::api {

// The review streams open (review_stream.cc), in all and by subject; touched on the API's one
// thread only. Each reads the reviews every 500 ms, so their number is bounded.
struct ReviewStreamSlots {
  std::size_t total = 0;
  std::unordered_map<std::string, std::size_t> by_subject;
};

// Parts that live as long as the server.
struct Services {
  const ContextSource* context = nullptr;
  std::shared_ptr<audit::Journal> journal;
  store::StateStore* state = nullptr;  // API-key lookups
  JournalReader* journal_reader = nullptr;
  // Live sessions by protocol ("postgres"), for /metrics.
  std::map<std::string, std::function<std::size_t()>> active_sessions;
  std::function<std::size_t()> api_connections;
  bool loopback_listener = false;
  // The approval workflow, the live sessions, the data path's counters (each may be null in
  // tests of other parts; `serve` sets them all).
  review::Reviews* reviews = nullptr;
  gateway::LiveSessions* live_sessions = nullptr;
  const GatewayMetrics* metrics = nullptr;
  // Signs SSH user certificates (null when it could not be loaded: the endpoint says so).
  const identity::SshCertificateAuthority* ssh_ca = nullptr;
  // The other instances sharing the state store; null in tests of other parts.
  gateway::InstanceEvents* instances = nullptr;
  std::function<void()> reload;  // reloads this instance's configuration
  // The MCP endpoint at /mcp; null where it is not served (tests of other parts).
  proto::mcp::McpServer* mcp = nullptr;
  ReviewStreamSlots review_streams;
};

// Writes bytes straight to the client (the body of a Server-Sent Events stream); false once
// the client is gone or stopped reading for longer than the write timeout.
using RawWriter = std::function<boost::asio::awaitable<bool>(const std::string&)>;

struct Call {
  const Request& request;
  boost::urls::params_view params;  // the query string, decoded
  std::shared_ptr<const ApiContext> context;
  std::optional<identity::Identity> caller;  // absent on endpoints open to anyone
  std::vector<std::string> path_params;      // the {id} segments of the route, in order
  Services& services;
  RawWriter write;
  std::string client_address;  // "10.0.0.7:51234"
};

// The response to send, or nullopt when the endpoint wrote its whole response through
// `Call::write` and the connection is to end.
using Handler = boost::asio::awaitable<std::optional<Response>> (*)(Call&);

}  // namespace portcullis::api
