// PortForwardStreams: WebSocket messages unwrapped when tunnelled, SPDY frames read, the port of
// each data stream kept.
#include "proto/kubernetes/port_forward_streams.h"

#include <fmt/format.h>

#include <boost/beast/core/string.hpp>

namespace portcullis::proto::kubernetes {

PortForwardStreams::PortForwardStreams(bool websocket_tunnel, PortForwardLimits limits)
    : websocket_tunnel_(websocket_tunnel),
      limits_(limits),
      websocket_reader_(Sender::client, limits.max_frame),
      spdy_reader_(limits.max_frame) {}

Result<void> PortForwardStreams::from_client(std::string_view bytes) {
  if (failed_) return *failed_;
  auto read = read_client(bytes);
  if (!read) failed_ = read.error();
  return read;
}

Result<void> PortForwardStreams::read_client(std::string_view bytes) {
  if (!websocket_tunnel_) return read_spdy(bytes);
  websocket_reader_.feed(bytes);
  for (;;) {
    auto next = websocket_reader_.next();
    if (!next) return next.error();
    if (!*next) return {};
    const Frame& frame = **next;
    if (is_control(frame.opcode)) continue;
    // The SPDY stream is cut into binary messages anywhere, even inside a frame's header.
    if (frame.opcode == Opcode::text)
      return make_error("a text message in a port forwarding tunnel");
    if (auto read = read_spdy(frame.payload); !read) return read;
  }
}

Result<void> PortForwardStreams::read_spdy(std::string_view bytes) {
  spdy_reader_.feed(bytes);
  for (;;) {
    auto next = spdy_reader_.next();
    if (!next) return next.error();
    if (!*next) return {};
    const SpdyFrame& frame = **next;
    if (!frame.is(SpdyControl::syn_stream) && !frame.is(SpdyControl::syn_reply) &&
        !frame.is(SpdyControl::headers))
      continue;
    // Every header block is read, to follow the one zlib stream they share.
    auto headers = headers_.read(frame.header_block);
    if (!headers) return headers.error();
    if (!frame.is(SpdyControl::syn_stream)) continue;
    const std::string* type = nullptr;
    const std::string* port = nullptr;
    for (const auto& [name, value] : *headers) {
      if (boost::beast::iequals(name, "streamtype")) type = &value;
      if (boost::beast::iequals(name, "port")) {
        if (port != nullptr)
          return make_error(fmt::format("spdy stream {} names its port twice", frame.stream_id));
        port = &value;
      }
    }
    if (type == nullptr || *type != "data") continue;
    if (port == nullptr || port->empty() || port->find('\0') != std::string::npos)
      return make_error(fmt::format("spdy data stream {} names no port", frame.stream_id));
    ++connections_;
    if (ports_.size() < limits_.kept_ports) ports_.push_back(*port);
  }
}

}  // namespace portcullis::proto::kubernetes
