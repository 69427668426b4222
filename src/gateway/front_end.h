// FrontEnd: one protocol's listeners and sessions, as `serve` starts them. A front end is a
// folder under src/proto/ and one line in the table of src/proto/front_ends.cc.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "common/result.h"
#include "config/config.h"
#include "gateway/accept_loop.h"
#include "gateway/context.h"
#include "net/io_threads.h"

namespace portcullis::gateway {

class FrontEnd {
 public:
  virtual ~FrontEnd() = default;

  // Opens the listener on every I/O thread and starts accepting.
  virtual Result<void> start(const config::Endpoint& listen) = 0;
  // Stops accepting and ends every session, telling each client the gateway is shutting down.
  virtual void stop() = 0;
  // New commands and sessions use `context` from now on (a reload).
  virtual void replace_context(std::shared_ptr<const GatewayContext> context) = 0;
  virtual std::size_t active_sessions() const = 0;
  // Serves a connection made inside the gateway (the MCP endpoint's) as if a client had
  // connected; front ends that take none refuse. Any thread.
  virtual Result<void> adopt(InProcessConnection connection) {
    ::close(connection.fd);
    return make_error("this front end takes no in-process connections");
  }
};

// What every front end is made with.
struct FrontEndSetup {
  net::IoThreads& threads;
  std::shared_ptr<const GatewayContext> context;
  // Sessions the open-file limit leaves room for (net::sessions_within): live connections are
  // capped at the lower of this and limits.max_connections.
  std::size_t session_cap = SIZE_MAX;
};

struct FrontEndEntry {
  std::string_view protocol;  // the `listen` key and the connections' `kind`
  std::unique_ptr<FrontEnd> (*make)(const FrontEndSetup& setup);
  // The MCP endpoint's tools reach this front end's targets (FrontEnd::adopt).
  bool serves_mcp = false;
};

}  // namespace portcullis::gateway
