// /mcp: the REST API's listener hands authenticated MCP requests to proto/mcp's server.
#include <boost/beast/http/field.hpp>

#include "api/bearer_auth.h"
#include "api/endpoints.h"

namespace portcullis::api {

boost::asio::awaitable<std::optional<Response>> handle_mcp(Call& call) {
  if (call.services.mcp == nullptr || !call.context->gateway)
    co_return error_response(http::status::not_found, "not_found",
                             "the MCP endpoint is not served here");
  const auto& request = call.request;
  auto header = [&](std::string_view name) {
    const auto it = request.find(name);
    return it == request.end() ? std::string_view() : std::string_view(it->value());
  };
  proto::mcp::McpRequest mcp{
      .method = std::string_view(request.method_string()),
      .body = request.body(),
      .accept = header("Accept"),
      .content_type = header("Content-Type"),
      .origin = header("Origin"),
      .session_id = header("Mcp-Session-Id"),
      .protocol_version = header("MCP-Protocol-Version"),
      .caller = &*call.caller,
      .credential = bearer_credential(request[http::field::authorization]),
      .client_address = call.client_address,
  };
  auto reply = co_await call.services.mcp->handle(std::move(mcp), call.context->gateway);
  auto response = make_response(static_cast<http::status>(reply.status), std::move(reply.body),
                                reply.content_type);
  if (reply.content_type.empty()) response.erase(http::field::content_type);
  for (auto& [name, value] : reply.headers) response.set(name, value);
  co_return response;
}

}  // namespace portcullis::api
