// What the API's Server-Sent Events streams (the journal's, the reviews') share: the response
// head and the keep-alive comment.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "api/endpoint.h"

namespace portcullis::api {

// The body is delimited by the end of the connection (no Content-Length, no chunking), which
// every SSE client expects; X-Accel-Buffering stops nginx from holding events back.
inline constexpr std::string_view kEventStreamHead =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n"
    "\r\n";

// A comment line this often on an idle stream: proxies and load balancers close connections
// silent for 60 s by default (nginx proxy_read_timeout, AWS ALB idle timeout), and a client
// that went away is noticed at the next write.
inline constexpr std::chrono::seconds kKeepAliveInterval{15};
inline constexpr std::string_view kKeepAliveComment = ": keep-alive\n\n";

// An `error` event with the API's error document as its data: the last event of a stream.
std::string error_event(std::string_view code, std::string_view message);

// A stream outlives the request that opened it: its caller is checked again every 5 s, under
// the configuration current then, so that a subject revoked, a token expired or an issuer or
// group dropped by a reload stops receiving within that time.
class StreamCaller {
 public:
  explicit StreamCaller(const Call& call);

  // When it is time: authenticates the request's credential again and, when it passes, puts
  // the identity and the current configuration into `call`. The refusal's message otherwise.
  std::optional<std::string> recheck(Call& call);

 private:
  std::string authorization_;
  std::chrono::steady_clock::time_point last_check_;
};

}  // namespace portcullis::api
