// What the API's Server-Sent Events streams (the journal's, the reviews') share: the response
// head and the keep-alive comment.
#pragma once

#include <chrono>
#include <string_view>

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

}  // namespace portcullis::api
