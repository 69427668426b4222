#include "proto/mysql/packet.h"

#include <gtest/gtest.h>

namespace portcullis::proto::mysql {
namespace {

TEST(MysqlPacket, FindsOnePacketAndWhatItConsumed) {
  std::string bytes;
  append_packet(bytes, "\x03SELECT 1", 0);
  bytes += "rest";
  Frame frame;
  ASSERT_EQ(next_frame(bytes, 1024, frame), FrameStatus::ready);
  EXPECT_EQ(frame.payload, "\x03SELECT 1");
  EXPECT_EQ(frame.sequence, 0);
  EXPECT_EQ(frame.consumed, bytes.size() - 4);
  uint8_t sequence = 9;
  auto single = single_packet_payload(bytes, &sequence);
  ASSERT_TRUE(single);
  EXPECT_EQ(*single, "\x03SELECT 1");
  EXPECT_EQ(sequence, 0);
}

TEST(MysqlPacket, WaitsForTheWholePacket) {
  std::string bytes;
  append_packet(bytes, "hello", 3);
  Frame frame;
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_EQ(next_frame(std::string_view(bytes).substr(0, cut), 1024, frame),
              FrameStatus::need_more);
    EXPECT_FALSE(single_packet_payload(std::string_view(bytes).substr(0, cut)));
  }
}

TEST(MysqlPacket, JoinsAPayloadSplitAtTheMaximumPacketSize) {
  const std::string payload(kMaxPacketPayload + 10, 'x');
  std::string bytes;
  EXPECT_EQ(append_packet(bytes, payload, 5), 7);  // two packets: 5 and 6
  EXPECT_EQ(bytes.size(), payload.size() + 2 * kHeaderSize);
  EXPECT_FALSE(single_packet_payload(bytes));
  Frame frame;
  ASSERT_EQ(next_frame(bytes, payload.size(), frame), FrameStatus::ready);
  EXPECT_EQ(frame.payload, payload);
  EXPECT_EQ(frame.sequence, 6);
  EXPECT_EQ(frame.consumed, bytes.size());
}

TEST(MysqlPacket, EndsAPayloadOfExactlyTheMaximumWithAnEmptyPacket) {
  const std::string payload(kMaxPacketPayload, 'y');
  std::string bytes;
  EXPECT_EQ(append_packet(bytes, payload, 0), 2);
  EXPECT_EQ(bytes.size(), payload.size() + 2 * kHeaderSize);
  Frame frame;
  ASSERT_EQ(next_frame(bytes, payload.size(), frame), FrameStatus::ready);
  EXPECT_EQ(frame.payload.size(), kMaxPacketPayload);
}

TEST(MysqlPacket, RefusesAPayloadOverTheLimitBeforeJoiningIt) {
  std::string bytes;
  append_packet(bytes, std::string(100, 'z'), 0);
  Frame frame;
  EXPECT_EQ(next_frame(bytes, 99, frame), FrameStatus::too_large);
  // Only the header is needed to know.
  EXPECT_EQ(next_frame(std::string_view(bytes).substr(0, 4), 99, frame), FrameStatus::too_large);
}

TEST(MysqlPacket, ReadsEveryIntegerEncoding) {
  std::string out;
  PacketWriter(out)
      .u8(0x12)
      .u16(0x3456)
      .u24(0x789abc)
      .u32(0xdeadbeef)
      .u64(0x0102030405060708ull)
      .lenenc_int(250)
      .lenenc_int(251)
      .lenenc_int(0xffff)
      .lenenc_int(0x10000)
      .lenenc_int(0x1000000)
      .lenenc_string("abc")
      .null_value()
      .nul_string("name");
  PacketReader r(out);
  EXPECT_EQ(r.u8(), 0x12);
  EXPECT_EQ(r.u16(), 0x3456);
  EXPECT_EQ(r.u24(), 0x789abcu);
  EXPECT_EQ(r.u32(), 0xdeadbeefu);
  EXPECT_EQ(r.u64(), 0x0102030405060708ull);
  EXPECT_EQ(r.lenenc_int(), 250u);
  EXPECT_EQ(r.lenenc_int(), 251u);
  EXPECT_EQ(r.lenenc_int(), 0xffffu);
  EXPECT_EQ(r.lenenc_int(), 0x10000u);
  EXPECT_EQ(r.lenenc_int(), 0x1000000u);
  EXPECT_EQ(r.lenenc_string(), "abc");
  EXPECT_EQ(r.lenenc_string_or_null(), std::nullopt);
  EXPECT_EQ(r.nul_string(), "name");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(lenenc_int_size(250), 1u);
  EXPECT_EQ(lenenc_int_size(251), 3u);
  EXPECT_EQ(lenenc_int_size(0x1000000), 9u);
}

TEST(MysqlPacket, NeverReadsPastThePayload) {
  PacketReader r(std::string_view("\xfc\x01", 2));
  EXPECT_EQ(r.lenenc_int(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.u8(), 0);
  EXPECT_TRUE(r.rest().empty());

  PacketReader long_string(
      std::string_view("\x05"
                       "abc",
                       4));
  EXPECT_TRUE(long_string.lenenc_string().empty());
  EXPECT_FALSE(long_string.ok());

  PacketReader no_nul("abc");
  EXPECT_TRUE(no_nul.nul_string().empty());
  EXPECT_FALSE(no_nul.ok());

  PacketReader rest("abc");
  EXPECT_EQ(rest.nul_or_rest(), "abc");
  EXPECT_TRUE(rest.ok());

  // 0xfb is NULL in a row, never an integer; 0xff is an error packet's marker.
  PacketReader null_marker("\xfb");
  null_marker.lenenc_int();
  EXPECT_FALSE(null_marker.ok());
}

}  // namespace
}  // namespace portcullis::proto::mysql
