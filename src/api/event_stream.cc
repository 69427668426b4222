// What the API's Server-Sent Events streams share: their error event and the caller's recheck.
#include "api/event_stream.h"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/bearer_auth.h"

namespace portcullis::api {
namespace {

constexpr std::chrono::seconds kRecheckInterval{5};

}  // namespace

std::string error_event(std::string_view code, std::string_view message) {
  boost::json::object error{{"code", code}, {"message", message}};
  return fmt::format("event: error\ndata: {}\n\n",
                     boost::json::serialize(boost::json::object{{"error", std::move(error)}}));
}

StreamCaller::StreamCaller(const Call& call)
    : authorization_(call.request[http::field::authorization]),
      last_check_(std::chrono::steady_clock::now()) {}

std::optional<std::string> StreamCaller::recheck(Call& call) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_check_ < kRecheckInterval) return std::nullopt;
  last_check_ = now;
  auto context = call.services.context->load();
  auto caller = authenticate_bearer(authorization_, *context, *call.services.state,
                                    std::chrono::system_clock::now());
  if (!caller) return caller.error().message;
  call.context = std::move(context);
  call.caller = std::move(*caller);
  return std::nullopt;
}

}  // namespace portcullis::api
