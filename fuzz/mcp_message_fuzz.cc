// libFuzzer target: arbitrary bytes as the body of a POST to the MCP endpoint, through the
// same pure parts the server uses (proto/mcp/json_rpc, proto/mcp/tool_catalog).
// Invariants: a refusal has one of JSON-RPC's codes and a null, string or integer id; a message
// taken has the id its kind needs; a tools/call's arguments, when read, are within the
// schema's bounds; and every answer the server would write from them (the result or error with
// the decoded id) is JSON that reads back with the same id.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "proto/mcp/json_rpc.h"
#include "proto/mcp/tool_catalog.h"

namespace {

using namespace portcullis::proto::mcp;
namespace json = boost::json;

bool valid_id(const json::value& id) {
  return id.is_string() || id.is_int64() || id.is_uint64();
}

// An answer reads back as one JSON-RPC object with the id it was written with.
void check_answer(const std::string& text, const json::value& id) {
  boost::system::error_code ec;
  const auto value = json::parse(text, ec);
  if (ec || !value.is_object()) __builtin_trap();
  const auto& object = value.get_object();
  const auto* version = object.if_contains("jsonrpc");
  const auto* written = object.if_contains("id");
  if (version == nullptr || *version != "2.0" || written == nullptr || *written != id)
    __builtin_trap();
  if (object.contains("result") == object.contains("error")) __builtin_trap();
}

void check_error(const json::value& id, int code, std::string_view message) {
  if (message.empty()) __builtin_trap();
  check_answer(encode_error(id, code, message), id);
}

// The tool call as the server goes on to use it: within the bounds its schema states.
json::object checked_call(const ToolCall& tool) {
  if (const auto* query = std::get_if<QueryCall>(&tool)) {
    if (query->connection.empty() || query->sql.empty() || query->sql.size() > kMaxSqlBytes)
      __builtin_trap();
    if (query->max_rows < 1 || query->max_rows > kMaxRows) __builtin_trap();
    if (query->wait.count() < 0 || query->wait > kMaxWait) __builtin_trap();
    return json::object{{"connection", query->connection},
                        {"sql", query->sql},
                        {"max_rows", query->max_rows},
                        {"wait", query->wait.count()}};
  }
  if (const auto* status = std::get_if<ReviewStatusCall>(&tool)) {
    if (status->review.size() < 3 || !status->review.starts_with("r-")) __builtin_trap();
    return json::object{{"review", status->review}};
  }
  return json::object{{"tool", "list_connections"}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact copy, so that ASan catches a read one byte past the body.
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto decoded = decode_message(body);

  if (const auto* failure = std::get_if<RpcFailure>(&decoded)) {
    if (failure->code != kParseError && failure->code != kInvalidRequest &&
        failure->code != kInvalidParams)
      __builtin_trap();
    if (!failure->id.is_null() && !valid_id(failure->id)) __builtin_trap();
    if (failure->code == kParseError && !failure->id.is_null()) __builtin_trap();
    check_error(failure->id, failure->code, failure->message);
    return 0;
  }

  const auto& message = std::get<RpcMessage>(decoded);
  switch (message.kind) {
    case MessageKind::request:
      if (!valid_id(message.id) || message.method.empty()) __builtin_trap();
      break;
    case MessageKind::notification:
      if (!message.id.is_null() || message.method.empty()) __builtin_trap();
      return 0;  // answered with nothing
    case MessageKind::response:
      if (!valid_id(message.id) || !message.method.empty()) __builtin_trap();
      return 0;  // dropped
  }

  if (message.method == "tools/call") {
    auto tool = read_tool_call(message.params);
    if (!tool) {
      check_error(message.id, kInvalidParams, tool.error().message);
      return 0;
    }
    check_answer(encode_result(message.id, checked_call(*tool)), message.id);
    return 0;
  }
  if (message.method == "tools/list") {
    check_answer(encode_result(message.id, json::object{{"tools", tool_definitions()}}),
                 message.id);
    return 0;
  }
  // Any other method is answered as not found, naming it.
  check_error(message.id, kMethodNotFound, "method \"" + message.method + "\" is not offered here");
  return 0;
}
