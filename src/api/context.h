// ApiContext: what the REST API reads from one configuration snapshot — the configuration, the
// authenticator and the client-facing TLS context that the PostgreSQL front end uses too.
// `serve` builds one per snapshot and swaps it in on reload.
#pragma once

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "config/config.h"
#include "gateway/context.h"
#include "identity/authenticator.h"

namespace portcullis::api {

struct ApiContext {
  config::ConfigPtr config;
  std::shared_ptr<const identity::Authenticator> authenticator;
  // Null when the configuration has no `tls` section: the listener speaks plain HTTP only.
  std::shared_ptr<boost::asio::ssl::context> tls;
  // The front ends' snapshot of the same configuration: what the MCP endpoint's tools decide
  // and mask with. Null in tests of other parts.
  std::shared_ptr<const gateway::GatewayContext> gateway;
};

// The current snapshot: each request reads it when it arrives, so a reload applies from the
// next request on, connections already open included.
using ContextSource = std::atomic<std::shared_ptr<const ApiContext>>;

}  // namespace portcullis::api
