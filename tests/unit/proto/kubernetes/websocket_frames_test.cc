// RFC 6455 frames: length encodings, streams cut anywhere, the masking direction rules,
// fragments and the control frames between them, the bounds.
#include "proto/kubernetes/websocket_frames.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace portcullis::proto::kubernetes {
namespace {

constexpr std::array<uint8_t, 4> kKey{0x37, 0xfa, 0x21, 0x3d};

// Every frame of `bytes` read at once; fails the test on an error.
std::vector<Frame> read_all(Sender sender, std::string_view bytes,
                            std::size_t max = kMaxWebSocketMessage) {
  FrameReader reader(sender, max);
  reader.feed(bytes);
  std::vector<Frame> frames;
  for (;;) {
    auto next = reader.next();
    if (!next) {
      ADD_FAILURE() << next.error().message;
      return frames;
    }
    if (!*next) break;
    frames.push_back(std::move(**next));
  }
  EXPECT_EQ(reader.buffered(), 0U);
  return frames;
}

// The error reading `bytes` ends with; empty when none.
std::string error_of(Sender sender, std::string_view bytes,
                     std::size_t max = kMaxWebSocketMessage) {
  FrameReader reader(sender, max);
  reader.feed(bytes);
  for (;;) {
    auto next = reader.next();
    if (!next) return next.error().message;
    if (!*next) return {};
  }
}

TEST(WebSocketFrames, WritesTheRfcExampleFrames) {
  // RFC 6455 section 5.7: a single-frame unmasked and masked "Hello".
  EXPECT_EQ(write_frame(Opcode::text, true, "Hello", std::nullopt),
            std::string("\x81\x05\x48\x65\x6c\x6c\x6f", 7));
  EXPECT_EQ(
      write_frame(Opcode::text, true, "Hello", std::array<uint8_t, 4>{0x37, 0xfa, 0x21, 0x3d}),
      std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
  const auto frames = read_all(Sender::client, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0],
            (Frame{.fin = true, .opcode = Opcode::text, .payload = "Hello", .masked = true}));
}

TEST(WebSocketFrames, ReadsEveryLengthEncodingBackBothWays) {
  for (const std::size_t size : {0UL, 1UL, 125UL, 126UL, 127UL, 65535UL, 65536UL, 70000UL}) {
    std::string payload(size, 'x');
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(i * 7);
    const std::string unmasked = write_frame(Opcode::binary, true, payload, std::nullopt);
    const std::size_t header = size < 126 ? 2 : size <= 0xffff ? 4 : 10;
    EXPECT_EQ(unmasked.size(), header + size) << size;
    auto frames = read_all(Sender::server, unmasked);
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].payload, payload);
    EXPECT_FALSE(frames[0].masked);

    const std::string masked = write_frame(Opcode::binary, true, payload, kKey);
    EXPECT_EQ(masked.size(), header + 4 + size) << size;
    frames = read_all(Sender::client, masked);
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames[0].payload, payload);
    EXPECT_TRUE(frames[0].masked);
  }
}

TEST(WebSocketFrames, ReadsANonMinimalLengthEncoding) {
  // RFC 6455 asks writers for the shortest encoding; the reader takes the others (what it
  // passes on is written again in the shortest).
  const auto frames = read_all(Sender::server, std::string("\x82\x7e\x00\x02hi", 6));
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].payload, "hi");
}

TEST(WebSocketFrames, ReadsAStreamCutAtEverySplitPoint) {
  std::string stream;
  stream += write_frame(Opcode::binary, false, std::string("\x01par", 4), kKey);
  stream += write_frame(Opcode::ping, true, "p", kKey);
  stream += write_frame(Opcode::continuation, true, "t two", kKey);
  stream += write_frame(Opcode::binary, true, std::string(300, 'm'), kKey);
  stream += write_frame(Opcode::binary, true, std::string(70000, 'l'), kKey);
  stream += write_frame(Opcode::close, true, std::string("\x03\xe8", 2), kKey);
  const auto whole = read_all(Sender::client, stream);
  ASSERT_EQ(whole.size(), 6U);
  EXPECT_EQ(whole[1].opcode, Opcode::ping);
  EXPECT_EQ(whole[2].opcode, Opcode::continuation);

  for (std::size_t cut = 0; cut <= stream.size(); cut += cut < 400 ? 1 : 997) {
    FrameReader reader(Sender::client);
    std::vector<Frame> frames;
    for (const std::string_view part :
         {std::string_view(stream).substr(0, cut), std::string_view(stream).substr(cut)}) {
      reader.feed(part);
      for (;;) {
        auto next = reader.next();
        ASSERT_TRUE(next) << cut << ": " << next.error().message;
        if (!*next) break;
        frames.push_back(std::move(**next));
      }
    }
    EXPECT_EQ(frames, whole) << cut;
  }
}

TEST(WebSocketFrames, ReadsAStreamFedOneByteAtATime) {
  std::string stream;
  for (int i = 0; i < 5; ++i)
    stream += write_frame(Opcode::binary, true, std::string(130 * i, 'a' + i), std::nullopt);
  FrameReader reader(Sender::server);
  std::size_t read = 0;
  for (const char byte : stream) {
    reader.feed(std::string_view(&byte, 1));
    auto next = reader.next();
    ASSERT_TRUE(next);
    if (*next) {
      EXPECT_EQ((*next)->payload, std::string(130 * read, 'a' + read));
      ++read;
    }
  }
  EXPECT_EQ(read, 5U);
}

TEST(WebSocketFrames, RefusesAnUnmaskedFrameFromTheClient) {
  EXPECT_EQ(error_of(Sender::client, write_frame(Opcode::binary, true, "x", std::nullopt)),
            "unmasked websocket frame from the client");
}

TEST(WebSocketFrames, RefusesAMaskedFrameFromTheServer) {
  EXPECT_EQ(error_of(Sender::server, write_frame(Opcode::binary, true, "x", kKey)),
            "masked websocket frame from the server");
}

TEST(WebSocketFrames, RefusesReservedBitsAndOpcodes) {
  EXPECT_EQ(error_of(Sender::server, std::string("\xc2\x01x", 3)),
            "websocket frame with a reserved bit set");
  EXPECT_EQ(error_of(Sender::server, std::string("\x92\x01x", 3)),
            "websocket frame with a reserved bit set");
  for (const char opcode : {'\x83', '\x87', '\x8b', '\x8f'})
    EXPECT_FALSE(error_of(Sender::server, std::string{opcode, '\x00'}).empty()) << +opcode;
}

TEST(WebSocketFrames, RefusesALongOrFragmentedControlFrame) {
  EXPECT_TRUE(
      error_of(Sender::server, write_frame(Opcode::ping, true, std::string(125, 'p'), std::nullopt))
          .empty());
  EXPECT_EQ(error_of(Sender::server,
                     write_frame(Opcode::ping, true, std::string(126, 'p'), std::nullopt)),
            "websocket control frame longer than 125 bytes");
  EXPECT_EQ(error_of(Sender::server, write_frame(Opcode::close, false, "", std::nullopt)),
            "fragmented websocket control frame");
}

TEST(WebSocketFrames, ReadsFragmentsWithControlFramesBetweenThem) {
  std::string stream;
  stream += write_frame(Opcode::text, false, "one ", std::nullopt);
  stream += write_frame(Opcode::ping, true, "", std::nullopt);
  stream += write_frame(Opcode::continuation, false, "two ", std::nullopt);
  stream += write_frame(Opcode::pong, true, "", std::nullopt);
  stream += write_frame(Opcode::continuation, true, "three", std::nullopt);
  stream += write_frame(Opcode::binary, true, "next", std::nullopt);
  const auto frames = read_all(Sender::server, stream);
  ASSERT_EQ(frames.size(), 6U);
  EXPECT_EQ(frames[0].opcode, Opcode::text);
  EXPECT_FALSE(frames[0].fin);
  EXPECT_EQ(frames[1].opcode, Opcode::ping);
  EXPECT_EQ(frames[4].opcode, Opcode::continuation);
  EXPECT_TRUE(frames[4].fin);
  EXPECT_EQ(frames[5].payload, "next");
}

TEST(WebSocketFrames, RefusesFragmentsOutOfOrder) {
  EXPECT_EQ(error_of(Sender::server, write_frame(Opcode::continuation, true, "x", std::nullopt)),
            "websocket continuation frame outside a fragmented message");
  EXPECT_EQ(error_of(Sender::server, write_frame(Opcode::binary, false, "a", std::nullopt) +
                                         write_frame(Opcode::binary, true, "b", std::nullopt)),
            "websocket data frame inside a fragmented message");
}

TEST(WebSocketFrames, RefusesAFrameOverTheBoundBeforeItsPayloadArrives) {
  // Only the header of a 17 MiB frame: refused without waiting for the payload.
  std::string header("\x82\x7f", 2);
  const uint64_t length = 17 << 20;
  for (int shift = 56; shift >= 0; shift -= 8) header += static_cast<char>(length >> shift);
  EXPECT_EQ(error_of(Sender::server, header), "websocket message longer than 16777216 bytes");
  EXPECT_EQ(error_of(Sender::server, write_frame(Opcode::binary, true, "12345", std::nullopt), 4),
            "websocket message longer than 4 bytes");
  EXPECT_TRUE(
      error_of(Sender::server, write_frame(Opcode::binary, true, "1234", std::nullopt), 4).empty());
}

TEST(WebSocketFrames, RefusesAFragmentedMessageOverTheBound) {
  std::string stream = write_frame(Opcode::binary, false, "123", std::nullopt);
  stream += write_frame(Opcode::ping, true, "control frames do not count", std::nullopt);
  stream += write_frame(Opcode::continuation, true, "4", std::nullopt);
  EXPECT_TRUE(error_of(Sender::server, stream, 4).empty());
  stream += write_frame(Opcode::binary, false, "123", std::nullopt);
  stream += write_frame(Opcode::continuation, true, "45", std::nullopt);
  EXPECT_EQ(error_of(Sender::server, stream, 4), "websocket message longer than 4 bytes");
}

TEST(WebSocketFrames, RefusesALengthWithItsHighBitSet) {
  EXPECT_EQ(error_of(Sender::server, std::string("\x82\x7f\x80\0\0\0\0\0\0\0", 10)),
            "websocket frame length with its high bit set");
}

TEST(WebSocketFrames, StaysFailedAfterAnError) {
  FrameReader reader(Sender::server);
  reader.feed(std::string("\xc2\x00", 2));
  EXPECT_FALSE(reader.next());
  reader.feed(write_frame(Opcode::binary, true, "x", std::nullopt));
  EXPECT_FALSE(reader.next());
}

}  // namespace
}  // namespace portcullis::proto::kubernetes
