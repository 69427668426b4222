// Calls to a gateway's MCP endpoint (`POST /mcp`) from a test, as raw JSON-RPC: the session
// an agent opens, and one tool call in it.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>

namespace portcullis::testing {

// initialize, then notifications/initialized: the session's id (Mcp-Session-Id).
std::string mcp_initialize(uint16_t port, const std::string& token);

// tools/call of `tool` with `arguments` in `session`: the CallToolResult (empty, and the test
// failed, when there is none).
boost::json::object mcp_tool_call(uint16_t port, const std::string& token,
                                  const std::string& session, const std::string& tool,
                                  boost::json::object arguments);

}  // namespace portcullis::testing
