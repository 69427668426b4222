// Routing: which endpoint a request reaches, and whether its caller may reach it. Every
// refusal is answered here, in the API's JSON error shape.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>

#include "api/context.h"
#include "api/endpoint.h"
#include "api/response.h"

namespace portcullis::api {

// The response to send, or nullopt when the endpoint wrote it whole itself (a stream).
boost::asio::awaitable<std::optional<Response>> route(const Request& request,
                                                      std::shared_ptr<const ApiContext> context,
                                                      Services& services, RawWriter write,
                                                      std::string client_address);

}  // namespace portcullis::api
