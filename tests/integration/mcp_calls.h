// Calls to a gateway's MCP endpoint from a test, as raw JSON-RPC over HTTP (api_call.h): the
// session's initialize and the requests made in it.
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

// initialize, then notifications/initialized: the session's id.
std::string mcp_initialize(uint16_t port, const std::string& token);

// One JSON-RPC request in `session`.
ApiResponse mcp_rpc(uint16_t port, const std::string& token, const std::string& session,
                    const std::string& method, boost::json::object params, int id = 7);

}  // namespace portcullis::testing
