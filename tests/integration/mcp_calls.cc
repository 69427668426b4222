// Raw MCP calls from a test.
#include "mcp_calls.h"

#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>
#include <boost/json/serialize.hpp>
#include <map>

namespace portcullis::testing {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr const char* kVersion = "2025-06-18";

}  // namespace

ApiResponse mcp_post(uint16_t port, const std::string& token, const std::string& body,
                     std::map<std::string, std::string> headers) {
  headers.emplace("Accept", "application/json, text/event-stream");
  return call_api(port, http::verb::post, "/mcp", token, body, headers);
}

std::string mcp_initialize(uint16_t port, const std::string& token) {
  auto answer = mcp_post(
      port, token,
      json::serialize(json::object{{"jsonrpc", "2.0"},
                                   {"id", 1},
                                   {"method", "initialize"},
                                   {"params",
                                    {{"protocolVersion", kVersion},
                                     {"capabilities", json::object{}},
                                     {"clientInfo", {{"name", "raw"}, {"version", "1"}}}}}}),
      {});
  EXPECT_EQ(answer.status, 200u) << answer.text;
  const std::string id = answer.headers["mcp-session-id"];
  EXPECT_EQ(id.size(), 32u) << answer.text;
  auto initialized =
      mcp_post(port, token, R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
               {{"Mcp-Session-Id", id}, {"MCP-Protocol-Version", kVersion}});
  EXPECT_EQ(initialized.status, 202u) << initialized.text;
  EXPECT_TRUE(initialized.text.empty());
  return id;
}

ApiResponse mcp_request(uint16_t port, const std::string& token, const std::string& session,
                        const std::string& method, json::object params, int id) {
  json::object message{
      {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  return mcp_post(port, token, json::serialize(message),
                  {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", kVersion}});
}

json::object mcp_tool_call(uint16_t port, const std::string& token, const std::string& session,
                           const std::string& tool, json::object arguments) {
  auto answer = mcp_request(port, token, session, "tools/call",
                            {{"name", tool}, {"arguments", std::move(arguments)}});
  EXPECT_EQ(answer.status, 200u) << answer.text;
  if (!answer.body.is_object() || !answer.body.as_object().contains("result")) {
    ADD_FAILURE() << "no result: " << answer.text;
    return {};
  }
  return answer.body.at("result").as_object();
}

}  // namespace portcullis::testing
