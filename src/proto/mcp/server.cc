// The MCP endpoint: the streamable HTTP transport's rules and the JSON-RPC methods.
#include "proto/mcp/server.h"

#include <fmt/format.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>

#include "identity/claims.h"
#include "proto/mcp/json_rpc.h"

namespace portcullis::proto::mcp {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view kJson = "application/json";

// Hex SHA-256 of a credential: what a session remembers of it.
std::string credential_digest(const Secret& credential) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(credential.reveal().data()),
         credential.reveal().size(), digest);
  std::string hex;
  for (unsigned char byte : digest) fmt::format_to(std::back_inserter(hex), "{:02x}", byte);
  return hex;
}

McpReply json_reply(unsigned status, std::string body) {
  return McpReply{
      .status = status, .content_type = std::string(kJson), .body = std::move(body), .headers = {}};
}

// A refusal of the transport's: a JSON-RPC error with no id, under an HTTP status.
McpReply transport_error(unsigned status, int code, std::string_view message) {
  return json_reply(status, encode_error(nullptr, code, message));
}

bool media_type_is(std::string_view header, std::string_view type) {
  const auto end = header.find(';');
  auto value = header.substr(0, end);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.size() != type.size()) return false;
  return std::equal(value.begin(), value.end(), type.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
}

// Whether an Accept header takes a JSON answer (absent: anything).
bool accepts_json(std::string_view accept) {
  if (accept.empty()) return true;
  std::size_t start = 0;
  while (start <= accept.size()) {
    const auto comma = accept.find(',', start);
    auto item = accept.substr(start, comma == std::string_view::npos ? accept.npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (media_type_is(item, kJson) || media_type_is(item, "application/*") ||
        media_type_is(item, "*/*"))
      return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

bool supported_version(std::string_view version) {
  return std::find(std::begin(kProtocolVersions), std::end(kProtocolVersions), version) !=
         std::end(kProtocolVersions);
}

}  // namespace

McpServer::McpServer(McpWiring wiring) : wiring_(std::move(wiring)), sessions_(wiring_.limits) {}

McpServer::~McpServer() = default;

void McpServer::close_all() {
  sessions_.close_all();
}

asio::awaitable<McpReply> McpServer::handle(
    McpRequest request, std::shared_ptr<const gateway::GatewayContext> context) {
  // DNS rebinding: a page of another site that reaches this listener by a name it controls
  // still sends its own Origin. Only the origins the configuration names may call.
  if (!request.origin.empty()) {
    const auto& allowed = context->config->api.allowed_origins;
    if (std::find(allowed.begin(), allowed.end(), request.origin) == allowed.end()) {
      spdlog::info("event=mcp_refused subject={:?} reason=\"origin not allowed\" origin={}",
                   request.caller->subject, identity::quote_untrusted(request.origin));
      co_return transport_error(403, kInvalidRequest,
                                "this origin may not call the MCP endpoint (api.allowed_origins)");
    }
  }
  if (request.method == "POST") co_return co_await post_message(request, std::move(context));
  if (request.method == "DELETE") {
    auto session = request.session_id.empty()
                       ? nullptr
                       : sessions_.find(request.session_id, std::chrono::steady_clock::now());
    if (!session || session->subject != request.caller->subject)
      co_return transport_error(404, kInvalidRequest, "no such MCP session");
    spdlog::info("event=mcp_session_end session={} subject={:?} reason=\"deleted by client\"",
                 session->id, session->subject);
    journal(*context, request, session->id, "mcp/" + request.client_address, "DELETE", {},
            "session ended");
    sessions_.remove(session->id);
    co_return McpReply{.status = 200, .content_type = {}, .body = {}, .headers = {}};
  }
  // GET would open a stream of the server's own messages: this server sends none.
  McpReply reply = transport_error(405, kInvalidRequest, "use POST (GET streams are not offered)");
  reply.headers.emplace_back("Allow", "POST, DELETE");
  co_return reply;
}

asio::awaitable<McpReply> McpServer::post_message(
    McpRequest& request, std::shared_ptr<const gateway::GatewayContext> context) {
  if (!media_type_is(request.content_type, kJson))
    co_return transport_error(415, kInvalidRequest, "the body must be application/json");
  if (!accepts_json(request.accept))
    co_return transport_error(406, kInvalidRequest, "this endpoint answers application/json");
  auto decoded = decode_message(request.body);
  if (auto* failure = std::get_if<RpcFailure>(&decoded))
    co_return json_reply(400, encode_error(failure->id, failure->code, failure->message));
  auto& message = std::get<RpcMessage>(decoded);
  const auto now = std::chrono::steady_clock::now();

  if (message.kind == MessageKind::request && message.method == "initialize") {
    std::string version(kProtocolVersions[0]);
    if (const auto* asked = message.params.if_contains("protocolVersion");
        asked && asked->is_string() && supported_version(asked->get_string()))
      version = std::string(asked->get_string());
    auto session = sessions_.create(request.caller->subject, version, now);
    if (!session)
      co_return json_reply(503, encode_error(message.id, kInternalError, session.error().message));
    (*session)->credential_digest = credential_digest(request.credential);
    spdlog::info("event=mcp_session_start session={} subject={:?} client={} version={}",
                 (*session)->id, request.caller->subject, request.client_address, version);
    journal(*context, request, (*session)->id, "mcp/" + request.client_address, "initialize", {},
            "session started (" + version + ")");
    json::object result;
    result["protocolVersion"] = version;
    result["capabilities"] = json::object{{"tools", json::object{{"listChanged", false}}}};
    result["serverInfo"] = json::object{{"name", "portcullis"}, {"version", PORTCULLIS_VERSION}};
    result["instructions"] =
        "Portcullis is an access gateway. Call list_connections to see what you may reach. "
        "Every statement is decided under your access, recorded in an audit journal, and its "
        "results are masked; one that needs a person's approval answers pending_review with "
        "a review id: once review_status says approved, send the same call again.";
    McpReply reply = json_reply(200, encode_result(message.id, std::move(result)));
    reply.headers.emplace_back("Mcp-Session-Id", (*session)->id);
    co_return reply;
  }

  if (request.session_id.empty())
    co_return transport_error(400, kInvalidRequest,
                              "the Mcp-Session-Id header is required (send initialize first)");
  auto session = sessions_.find(request.session_id, now);
  // Another subject's session is as unknown as one that never was.
  if (!session || session->subject != request.caller->subject)
    co_return transport_error(404, kInvalidRequest,
                              "no such MCP session (it ended or expired): initialize again");
  // The revision the session negotiated, or none (clients of 2025-03-26 send no header).
  if (!request.protocol_version.empty() && request.protocol_version != session->protocol_version)
    co_return transport_error(400, kInvalidRequest,
                              fmt::format("MCP-Protocol-Version {} is not this session's ({})",
                                          identity::quote_untrusted(request.protocol_version),
                                          session->protocol_version));
  if (message.kind != MessageKind::request)
    co_return McpReply{.status = 202, .content_type = {}, .body = {}, .headers = {}};

  if (message.method == "ping")
    co_return json_reply(200, encode_result(message.id, json::object{}));
  if (message.method == "tools/list")
    co_return json_reply(200,
                         encode_result(message.id, json::object{{"tools", tool_definitions()}}));
  if (message.method == "tools/call") {
    auto tool = read_tool_call(message.params);
    if (!tool)
      co_return json_reply(200, encode_error(message.id, kInvalidParams, tool.error().message));
    const std::string& subject = request.caller->subject;
    if (calls_running_ >= kMaxCallsRunning || calls_by_subject_[subject] >= kMaxCallsPerSubject)
      co_return json_reply(
          200, encode_error(message.id, kInternalError,
                            fmt::format("too many tool calls at once ({} for one caller, {} in "
                                        "all); wait for one to finish",
                                        kMaxCallsPerSubject, kMaxCallsRunning)));
    // A new credential of the subject: the connections opened with another are closed (the
    // next call opens them again under this one's grant).
    const std::string digest = credential_digest(request.credential);
    if (session->credential_digest != digest) {
      if (session->calls > 0)
        co_return json_reply(200, encode_error(message.id, kInternalError,
                                               "calls made with another credential are still "
                                               "running in this session; wait for them"));
      session->close();
      session->credential_digest = digest;
    }
    // Not awaited inside the braces: GCC 12 miscompiles co_await in an aggregate initializer.
    auto executor = co_await asio::this_coro::executor;
    Call call{request, *context, session, std::move(executor)};
    ++session->calls;
    ++calls_running_;
    ++calls_by_subject_[subject];
    struct Done {
      McpServer& server;
      McpSession& session;
      const std::string& subject;
      ~Done() {
        --session.calls;
        session.last_used = std::chrono::steady_clock::now();
        --server.calls_running_;
        if (--server.calls_by_subject_[subject] == 0) server.calls_by_subject_.erase(subject);
      }
    } done{*this, *session, subject};
    auto result = co_await call_tool(call, *tool);
    co_return json_reply(200, encode_result(message.id, std::move(result)));
  }
  co_return json_reply(
      200, encode_error(message.id, kMethodNotFound,
                        fmt::format("method \"{}\" is not offered here", message.method)));
}

}  // namespace portcullis::proto::mcp
