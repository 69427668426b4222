// The ports a port forwarding stream opens, read from the client's SPDY frames as they come on
// the connection or tunnelled in WebSocket messages cut anywhere.
#include "proto/kubernetes/port_forward_streams.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "spdy_test_frames.h"

namespace portcullis::proto::kubernetes {
namespace {

using spdy_test::syn_stream;

// kubectl's streams for `connections` local connections: error, then data, each naming its
// port and request id.
std::string forward_streams(SpdyHeaderWriter& writer, const std::vector<std::string>& ports) {
  std::string bytes;
  uint32_t id = 1;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const std::string request = std::to_string(i);
    bytes += syn_stream(writer, id,
                        {{"streamtype", "error"}, {"port", ports[i]}, {"requestid", request}});
    bytes += syn_stream(writer, id + 2,
                        {{"streamtype", "data"}, {"port", ports[i]}, {"requestid", request}});
    bytes += spdy_test::data_frame(id + 2, "bytes of the pod's own protocol");
    id += 4;
  }
  return bytes;
}

// As kubectl tunnels SPDY in a WebSocket: binary messages cut anywhere, masked.
std::string tunnelled(std::string_view spdy, std::size_t piece) {
  std::string bytes;
  for (std::size_t at = 0; at < spdy.size(); at += piece)
    bytes += write_frame(Opcode::binary, true, spdy.substr(at, piece),
                         std::array<uint8_t, 4>{9, 8, 7, 6});
  return bytes;
}

TEST(PortForwardStreamsTest, ReadsThePortOfEachConnectionOverSpdy) {
  SpdyHeaderWriter writer;
  const std::string bytes = forward_streams(writer, {"8080", "5432"});
  PortForwardStreams streams(false);
  for (std::size_t at = 0; at < bytes.size(); at += 7)
    ASSERT_TRUE(streams.from_client(bytes.substr(at, 7)).ok());
  EXPECT_EQ(streams.ports(), (std::vector<std::string>{"8080", "5432"}));
  EXPECT_EQ(streams.connections(), 2U);
}

TEST(PortForwardStreamsTest, ReadsThemInAWebSocketTunnelCutAnywhere) {
  SpdyHeaderWriter writer;
  const std::string bytes = tunnelled(forward_streams(writer, {"80", "443", "9000"}), 3);
  PortForwardStreams streams(true);
  ASSERT_TRUE(streams.from_client(bytes.substr(0, 11)).ok());
  ASSERT_TRUE(streams.from_client(bytes.substr(11)).ok());
  EXPECT_EQ(streams.ports(), (std::vector<std::string>{"80", "443", "9000"}));
}

TEST(PortForwardStreamsTest, KeepsBoundedPortsAndCountsAll) {
  SpdyHeaderWriter writer;
  PortForwardStreams streams(false, {.kept_ports = 1});
  ASSERT_TRUE(streams.from_client(forward_streams(writer, {"1", "2", "3"})).ok());
  EXPECT_EQ(streams.ports(), (std::vector<std::string>{"1"}));
  EXPECT_EQ(streams.connections(), 3U);
}

TEST(PortForwardStreamsTest, RefusesADataStreamWhosePortCannotBeRead) {
  const std::vector<SpdyHeaders> unreadable{
      {{"streamtype", "data"}},
      {{"streamtype", "data"}, {"port", "80"}, {"Port", "22"}},
      {{"streamtype", "data"},
       {"port", std::string("80\0"
                            "22",
                            5)}},
  };
  for (const auto& headers : unreadable) {
    SpdyHeaderWriter writer;
    PortForwardStreams streams(false);
    EXPECT_FALSE(streams.from_client(syn_stream(writer, 1, headers)).ok());
  }
}

TEST(PortForwardStreamsTest, RefusesATextMessageAndFramesThatDoNotRead) {
  PortForwardStreams text(true);
  EXPECT_FALSE(
      text.from_client(write_frame(Opcode::text, true, "x", std::array<uint8_t, 4>{})).ok());
  PortForwardStreams unmasked(true);
  EXPECT_FALSE(unmasked.from_client(write_frame(Opcode::binary, true, "x", std::nullopt)).ok());
  PortForwardStreams spdy2(false);
  EXPECT_FALSE(
      spdy2.from_client(spdy_test::control_frame(SpdyControl::ping, 0, "\0\0\0\1", 2)).ok());
}

}  // namespace
}  // namespace portcullis::proto::kubernetes
