// Raw MCP calls from a test: initialize a session on a gateway's /mcp and call its tools, as an
// agent's client would over the streamable HTTP transport.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>

#include "api_call.h"

namespace portcullis::testing {

// POST /mcp with the Accept header the streamable HTTP transport asks of clients.
ApiResponse mcp_post(uint16_t port, const std::string& token, const std::string& body,
                     std::map<std::string, std::string> headers = {});

// initialize, then notifications/initialized: the session's id (empty, with a test failure,
// when the gateway refused).
std::string mcp_initialize(uint16_t port, const std::string& token);

// One JSON-RPC request of `method` in `session`.
ApiResponse mcp_request(uint16_t port, const std::string& token, const std::string& session,
                        const std::string& method, boost::json::object params, int id = 7);

// tools/call: the CallToolResult (empty, with a test failure, when there is none).
boost::json::object mcp_tool_call(uint16_t port, const std::string& token,
                                  const std::string& session, const std::string& tool,
                                  boost::json::object arguments);

}  // namespace portcullis::testing
