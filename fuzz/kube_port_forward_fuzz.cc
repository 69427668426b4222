// libFuzzer target for the reader of port forwarding streams (proto/kubernetes/
// port_forward_streams, and the SPDY and WebSocket readers under it): the first byte chooses
// SPDY or the WebSocket tunnel (low bit) and the piece size (1-64) in which the rest, the
// client's bytes, is fed. Checked: no crash or overread; the ports kept stay within their
// bound and never outnumber the connections counted; once refused, it stays refused.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proto/kubernetes/port_forward_streams.h"

namespace {

void check(bool holds) {
  if (!holds) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portcullis::proto::kubernetes;
  if (size < 1) return 0;
  const bool websocket = (data[0] & 1) != 0;
  const std::size_t piece = 1 + ((data[0] >> 1) & 0x3f);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  PortForwardStreams streams(websocket, {.max_frame = 1 << 20, .kept_ports = 4});
  bool refused = false;
  while (!rest.empty()) {
    const auto part = rest.substr(0, piece);
    rest.remove_prefix(part.size());
    const bool ok = streams.from_client(part).ok();
    if (refused) check(!ok);
    refused = refused || !ok;
  }
  check(streams.ports().size() <= 4);
  check(streams.ports().size() <= streams.connections());
  return 0;
}
