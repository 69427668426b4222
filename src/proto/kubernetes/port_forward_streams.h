// PortForwardStreams: what a `kubectl port-forward` stream asks for, read from the client's side
// without changing it: the port of each connection the client opens. kubectl speaks SPDY/3.1
// with the stream protocol portforward.k8s.io, on the connection itself or tunnelled in the
// binary messages of a WebSocket (SPDY/3.1+portforward.k8s.io, kubectl 1.31 and newer). Each
// connection is two SPDY streams, `error` and `data`, whose SYN_STREAMs name its `port` and
// `requestid`. The bytes the streams carry are the pod's own and are not read. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "proto/kubernetes/spdy_frames.h"
#include "proto/kubernetes/spdy_header_block.h"
#include "proto/kubernetes/websocket_frames.h"

namespace portcullis::proto::kubernetes {

struct PortForwardLimits {
  std::size_t max_frame = 16 << 20;  // a SPDY frame's payload, or a WebSocket message
  std::size_t kept_ports = 1000;     // connections whose port is kept; the rest are counted
};

class PortForwardStreams {
 public:
  explicit PortForwardStreams(bool websocket_tunnel, PortForwardLimits limits = {});

  // Bytes from the client, as they go on to the server. Refused, for good (the caller ends the
  // tunnel): WebSocket frames that do not read or a text message, SPDY frames or header blocks
  // that do not read, a data stream that names no port or several.
  Result<void> from_client(std::string_view bytes);

  // The port of each connection opened, in order, up to kept_ports; connections() counts all.
  const std::vector<std::string>& ports() const { return ports_; }
  uint64_t connections() const { return connections_; }

 private:
  Result<void> read_client(std::string_view bytes);
  Result<void> read_spdy(std::string_view bytes);

  bool websocket_tunnel_;
  PortForwardLimits limits_;
  FrameReader websocket_reader_;
  SpdyFrameReader spdy_reader_;
  SpdyHeaderReader headers_;
  std::vector<std::string> ports_;
  uint64_t connections_ = 0;
  std::optional<Error> failed_;
};

}  // namespace portcullis::proto::kubernetes
