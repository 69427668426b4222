// McpServer: the Model Context Protocol endpoint (`POST /mcp` on the http listener, the
// streamable HTTP transport, JSON-RPC 2.0). The REST API authenticates the caller and hands
// the request here; this checks the transport's rules (origin, session, protocol version),
// answers initialize, ping and tools/list, and runs tools/call through the gateway's own
// front ends, so that an agent's statement is decided, held, journaled and masked exactly as
// a psql user's is. Runs on the API's thread.
// Reference: https://modelcontextprotocol.io/specification/2025-06-18/basic/transports
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret.h"
#include "gateway/accept_loop.h"
#include "gateway/context.h"
#include "identity/identity.h"
#include "proto/mcp/session_table.h"
#include "proto/mcp/tool_catalog.h"
#include "review/reviews.h"

namespace portcullis::proto::mcp {

// One HTTP request to /mcp, as far as MCP reads it. The caller was authenticated by the API.
struct McpRequest {
  std::string_view method;  // GET, POST, DELETE
  std::string_view body;
  std::string_view accept;
  std::string_view content_type;
  std::string_view origin;            // empty when absent
  std::string_view session_id;        // Mcp-Session-Id, empty when absent
  std::string_view protocol_version;  // MCP-Protocol-Version, empty when absent
  const identity::Identity* caller = nullptr;
  Secret credential;  // the caller's token or API key, to sign in to the front ends
  std::string client_address;
};

struct McpReply {
  unsigned status = 200;
  std::string content_type;  // empty: no body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct McpWiring {
  // Hands an in-process connection to the front end of `protocol` ("postgres").
  std::function<Result<void>(std::string_view protocol, gateway::InProcessConnection)> adopt;
  // The review store, for review_status and for telling a held call's outcome; may be null.
  review::Reviews* reviews = nullptr;
  SessionLimits limits;
};

// The protocol revisions this endpoint speaks, newest first.
inline constexpr std::string_view kProtocolVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                         "2024-11-05"};

class McpServer {
 public:
  explicit McpServer(McpWiring wiring);
  ~McpServer();

  boost::asio::awaitable<McpReply> handle(McpRequest request,
                                          std::shared_ptr<const gateway::GatewayContext> context);
  // Ends every session (the gateway stops).
  void close_all();
  std::size_t sessions() const { return sessions_.size(); }

 private:
  struct Call {
    McpRequest& request;
    const gateway::GatewayContext& context;
    std::shared_ptr<McpSession> session;
    boost::asio::any_io_executor executor;
  };
  // The most connections one MCP session keeps open at once.
  static constexpr std::size_t kMaxConnectionsPerSession = 16;
  // The most tool calls running at once, in all and for one subject.
  static constexpr std::size_t kMaxCallsRunning = 16;
  static constexpr std::size_t kMaxCallsPerSubject = 4;
  // A tool's answer: the CallToolResult object.
  using ToolAnswer = boost::json::object;

  boost::asio::awaitable<McpReply> post_message(
      McpRequest& request, std::shared_ptr<const gateway::GatewayContext> context);
  // Runs the tool and journals the call.
  boost::asio::awaitable<ToolAnswer> call_tool(Call& call, const ToolCall& tool);
  boost::asio::awaitable<ToolAnswer> run_tool(Call& call, const ToolCall& tool);
  ToolAnswer list_connections(Call& call);
  boost::asio::awaitable<ToolAnswer> query(Call& call, const QueryCall& query);
  boost::asio::awaitable<ToolAnswer> exec(Call& call, const ExecCall& exec);
  boost::asio::awaitable<ToolAnswer> kubernetes(Call& call, const KubernetesCall& request);
  // The session's open connection to `name` in `connections`, opened with `open` when there
  // is none: null with `refusal` set when it cannot be.
  template <typename ToolSession, typename Open>
  boost::asio::awaitable<std::shared_ptr<ToolSession>> connection(
      Call& call, std::map<std::string, std::shared_ptr<ToolSession>, std::less<>>& connections,
      const std::string& name, const std::string& address, Open open,
      std::optional<ToolError>& refusal);
  // The call's connection ended under it (killed, revoked, the gateway stopping): the agent's
  // whole MCP session ends with it, as a psql user's connection does.
  ToolAnswer session_ended(Call& call, const std::string& connection, const ToolError& why);
  ToolAnswer pending_review(const std::string& connection, const std::string& review);
  // The front end refused to open the connection (no access, a revoked caller, ...).
  static ToolAnswer refused(const std::string& connection, const ToolError& why);
  // Records an MCP request in the journal (event `mcp`): `command` ("initialize",
  // "tools/call query"), the connection it reached, the outcome; `client_address` is the tool
  // session's when the call reached a target, so that its front end's records match it.
  static void journal(const gateway::GatewayContext& context, const McpRequest& request,
                      std::string_view session, std::string client_address, std::string command,
                      std::string connection, std::string outcome);
  // Hands in-process connections to the front end of `protocol`.
  Adopt adopter(std::string protocol) const;
  ToolAnswer review_status(Call& call, const ReviewStatusCall& review);

  // "mcp/10.0.0.7:51234/12": the agent's address, then a number that tells this tool session
  // from the agent's others (HoldProbe looks it up).
  std::string tool_client_address(const McpRequest& request);
  static HoldProbe hold_probe(const gateway::GatewayContext& context, std::string client_address);

  McpWiring wiring_;
  SessionTable sessions_;
  uint64_t tool_sessions_ = 0;
  // Tool calls running now, in all and by subject: the API's listener (one thread, a
  // bounded number of connections) also serves reviewers and responders, whom long calls
  // must not crowd out.
  std::size_t calls_running_ = 0;
  std::map<std::string, std::size_t, std::less<>> calls_by_subject_;
};

}  // namespace portcullis::proto::mcp
