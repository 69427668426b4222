// How an exec, attach or portforward request asks the API server to switch protocols, and
// whether the gateway can relay what it asks for. exec and attach: a WebSocket with a channel
// subprotocol it reads (exec_stream.h), or SPDY/3.1 with a stream protocol it reads
// (spdy_exec_stream.h). portforward: SPDY/3.1 with `portforward.k8s.io`, or the same carried in
// a WebSocket (`SPDY/3.1+portforward.k8s.io`, kubectl 1.31 and newer), relayed as it comes.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::proto::kubernetes {

// The header that names SPDY's stream protocols, offered and chosen (k8s.io/apimachinery
// httpstream).
inline constexpr std::string_view kStreamProtocolHeader = "X-Stream-Protocol-Version";

enum class ExecFraming { websocket, spdy, other };

using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// From the request's Upgrade header.
ExecFraming exec_framing_of(const UpgradeRequest& request);
// Over SPDY, the stream protocols the client offers (every X-Stream-Protocol-Version line) that
// the relay reads, in the client's order.
std::vector<std::string> readable_spdy_protocols_of(const UpgradeRequest& request);
// Why the gateway cannot relay this exec or attach request's stream, in words for the caller;
// nullopt when it can.
std::optional<std::string> unrelayable_exec_stream(const UpgradeRequest& request,
                                                   std::string_view verb);

// Port forwarding's stream protocol over SPDY, and its WebSocket subprotocols (the SPDY stream
// tunnelled in binary messages).
inline constexpr std::string_view kPortForwardProtocol = "portforward.k8s.io";
inline constexpr std::string_view kPortForwardTunnel = "SPDY/3.1+portforward.k8s.io";
bool is_port_forward_subprotocol(std::string_view subprotocol);
// Of the subprotocols a client offers (its Sec-WebSocket-Protocol header), those of port
// forwarding, in the client's order, comma-separated; empty when there is none.
std::string port_forward_subprotocols(std::string_view offered);
// Why the gateway cannot relay this portforward request's stream; nullopt when it can.
std::optional<std::string> unrelayable_forward_stream(const UpgradeRequest& request);

}  // namespace portcullis::proto::kubernetes
