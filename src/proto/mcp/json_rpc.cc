// JSON-RPC 2.0 decoding and encoding for the MCP endpoint.
#include "proto/mcp/json_rpc.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace portcullis::proto::mcp {
namespace json = boost::json;

namespace {

// An id as JSON-RPC allows it and MCP narrows it: a string or an integer (MCP: never null).
bool valid_id(const json::value& id) {
  return id.is_string() || id.is_int64() || id.is_uint64();
}

RpcFailure failure(int code, std::string message, json::value id = nullptr) {
  return RpcFailure{.code = code, .message = std::move(message), .id = std::move(id)};
}

}  // namespace

std::variant<RpcMessage, RpcFailure> decode_message(std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxDepth;
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec, {}, options);
  if (ec) return failure(kParseError, "parse error: the body is not JSON (" + ec.message() + ")");
  if (parsed.is_array())
    return failure(kInvalidRequest, "batches are not supported: send one message per request");
  auto* object = parsed.if_object();
  if (object == nullptr) return failure(kInvalidRequest, "a message is a JSON object");

  json::value id = nullptr;
  const auto* id_field = object->if_contains("id");
  if (id_field != nullptr) {
    if (!valid_id(*id_field))
      return failure(kInvalidRequest, "\"id\" must be a string or an integer");
    id = *id_field;
  }
  const auto* version = object->if_contains("jsonrpc");
  if (version == nullptr || !version->is_string() || version->get_string() != "2.0")
    return failure(kInvalidRequest, "\"jsonrpc\" must be \"2.0\"", id);

  const auto* method = object->if_contains("method");
  if (method == nullptr) {
    // A response to a request of the server's: it sends none, so it is taken and dropped.
    if (id_field != nullptr && (object->contains("result") || object->contains("error")))
      return RpcMessage{.kind = MessageKind::response, .id = id, .method = {}, .params = {}};
    return failure(kInvalidRequest, "\"method\" is missing", id);
  }
  if (!method->is_string() || method->get_string().empty())
    return failure(kInvalidRequest, "\"method\" must be a non-empty string", id);

  RpcMessage message;
  message.kind = id_field != nullptr ? MessageKind::request : MessageKind::notification;
  message.id = id;
  message.method = std::string(method->get_string());
  if (const auto* params = object->if_contains("params")) {
    // MCP's parameters are always named.
    if (!params->is_object()) return failure(kInvalidParams, "\"params\" must be an object", id);
    message.params = params->get_object();
  }
  return message;
}

std::string encode_result(const json::value& id, json::value result) {
  json::object out;
  out["jsonrpc"] = "2.0";
  out["id"] = id;
  out["result"] = std::move(result);
  return json::serialize(out);
}

std::string encode_error(const json::value& id, int code, std::string_view message) {
  json::object error;
  error["code"] = code;
  error["message"] = message;
  json::object out;
  out["jsonrpc"] = "2.0";
  out["id"] = id;
  out["error"] = std::move(error);
  return json::serialize(out);
}

}  // namespace portcullis::proto::mcp
