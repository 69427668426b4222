// The JSON-RPC 2.0 messages of the Model Context Protocol: one HTTP body in, a request, a
// notification or a response out (or the error to answer with); results and errors encoded.
// Pure: no I/O, no policy.
// References: https://www.jsonrpc.org/specification,
// https://modelcontextprotocol.io/specification/2025-06-18/basic
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <variant>

namespace portcullis::proto::mcp {

// Error codes of JSON-RPC 2.0.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;

enum class MessageKind {
  request,       // has an id: answered with a result or an error
  notification,  // no id: answered with nothing (HTTP 202)
  response,      // a client's answer to a server request; this server sends none
};

struct RpcMessage {
  MessageKind kind = MessageKind::request;
  boost::json::value id;  // a string or an integer; null for a notification
  std::string method;
  boost::json::object params;  // empty when the message has none
};

// Why a body is not a message this server takes, and the id to answer with (null when it
// could not be read).
struct RpcFailure {
  int code = kInvalidRequest;
  std::string message;
  boost::json::value id;
};

// Nesting deeper than this is refused before it is built (a parser's stack, a reply's size).
inline constexpr std::size_t kMaxDepth = 64;

// Decodes one HTTP body. It holds exactly one message: JSON-RPC batches are refused, as MCP
// has refused them since its 2025-06-18 revision.
std::variant<RpcMessage, RpcFailure> decode_message(std::string_view body);

std::string encode_result(const boost::json::value& id, boost::json::value result);
std::string encode_error(const boost::json::value& id, int code, std::string_view message);

}  // namespace portcullis::proto::mcp
