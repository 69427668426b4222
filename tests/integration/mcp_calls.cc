// Raw JSON-RPC calls to the MCP endpoint, shared by the tests of its tools.
#include "mcp_calls.h"

#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "api_call.h"

namespace portcullis::testing {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

// The protocol revision the tests speak.
constexpr const char* kVersion = "2025-06-18";

ApiResponse post(uint16_t port, const std::string& token, const std::string& body,
                 std::map<std::string, std::string> headers = {}) {
  headers.emplace("Accept", "application/json, text/event-stream");
  return call_api(port, http::verb::post, "/mcp", token, body, headers);
}

}  // namespace

std::string mcp_initialize(uint16_t port, const std::string& token) {
  json::object params{{"protocolVersion", kVersion},
                      {"capabilities", json::object{}},
                      {"clientInfo", json::object{{"name", "raw"}, {"version", "1"}}}};
  json::object message{
      {"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"}, {"params", std::move(params)}};
  auto answer = post(port, token, json::serialize(message));
  EXPECT_EQ(answer.status, 200u) << answer.text;
  const std::string id = answer.headers["mcp-session-id"];
  EXPECT_EQ(id.size(), 32u) << answer.text;
  auto initialized = post(port, token, R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
                          {{"Mcp-Session-Id", id}, {"MCP-Protocol-Version", kVersion}});
  EXPECT_EQ(initialized.status, 202u) << initialized.text;
  EXPECT_TRUE(initialized.text.empty());
  return id;
}

json::object mcp_tool_call(uint16_t port, const std::string& token, const std::string& session,
                           const std::string& tool, json::object arguments) {
  json::object message{
      {"jsonrpc", "2.0"},
      {"id", 7},
      {"method", "tools/call"},
      {"params", json::object{{"name", tool}, {"arguments", std::move(arguments)}}}};
  auto answer = post(port, token, json::serialize(message),
                     {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", kVersion}});
  EXPECT_EQ(answer.status, 200u) << answer.text;
  if (!answer.body.is_object() || !answer.body.as_object().contains("result")) {
    ADD_FAILURE() << "no result: " << answer.text;
    return {};
  }
  return answer.body.at("result").as_object();
}

}  // namespace portcullis::testing
