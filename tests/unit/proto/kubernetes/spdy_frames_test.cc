// SPDY/3.1 frames and header blocks: frames read whole however they arrive, the fields a relay
// reads checked, data frames written; header blocks inflated against the SPDY/3 dictionary
// across one zlib stream, and refused when they do not read.
#include "proto/kubernetes/spdy_frames.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "proto/kubernetes/spdy_header_block.h"
#include "spdy_test_frames.h"

namespace portcullis::proto::kubernetes {
namespace {

using spdy_test::append_u32;
using spdy_test::control_frame;
using spdy_test::data_frame;

std::vector<SpdyFrame> read_spdy_frames(SpdyFrameReader& reader) {
  std::vector<SpdyFrame> frames;
  for (;;) {
    auto next = reader.next();
    if (!next) {
      ADD_FAILURE() << next.error().message;
      break;
    }
    if (!*next) break;
    frames.push_back(**next);
  }
  return frames;
}

TEST(SpdyFrameReaderTest, ReadsADataFrameFedByteByByte) {
  const std::string frame = data_frame(5, "hello", true);
  SpdyFrameReader reader;
  for (std::size_t i = 0; i + 1 < frame.size(); ++i) {
    reader.feed(frame.substr(i, 1));
    auto next = reader.next();
    ASSERT_TRUE(next.ok());
    EXPECT_FALSE(*next);
  }
  reader.feed(frame.substr(frame.size() - 1));
  auto next = reader.next();
  ASSERT_TRUE(next.ok() && *next);
  const SpdyFrame& read = **next;
  EXPECT_FALSE(read.control);
  EXPECT_EQ(read.stream_id, 5U);
  EXPECT_TRUE(read.fin());
  EXPECT_EQ(read.payload, "hello");
  EXPECT_EQ(read.bytes, frame);
  EXPECT_EQ(reader.buffered(), 0U);
}

TEST(SpdyFrameReaderTest, ReadsASynStreamsIdAndHeaderBlock) {
  SpdyHeaderWriter writer;
  const std::string frame = spdy_test::syn_stream(writer, 7, {{"streamtype", "stdout"}});
  SpdyFrameReader reader;
  reader.feed(frame + spdy_test::ping(1));
  const auto frames = read_spdy_frames(reader);
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_TRUE(frames[0].is(SpdyControl::syn_stream));
  EXPECT_EQ(frames[0].stream_id, 7U);
  SpdyHeaderReader headers;
  auto read = headers.read(frames[0].header_block);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, (SpdyHeaders{{"streamtype", "stdout"}}));
  EXPECT_TRUE(frames[1].is(SpdyControl::ping));
  EXPECT_EQ(frames[1].stream_id, 0U);
}

TEST(SpdyFrameReaderTest, PassesAControlTypeItDoesNotKnow) {
  SpdyFrameReader reader;
  reader.feed(control_frame(static_cast<SpdyControl>(42), 0, "xyz"));
  const auto frames = read_spdy_frames(reader);
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].type, 42);
  EXPECT_EQ(frames[0].payload, "xyz");
}

TEST(SpdyFrameReaderTest, RefusesAnotherVersionForGood) {
  SpdyFrameReader reader;
  reader.feed(control_frame(SpdyControl::ping, 0, "\0\0\0\1", 2));
  auto next = reader.next();
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.error().message.find("version 2"), std::string::npos);
  reader.feed(spdy_test::ping(1));
  EXPECT_FALSE(reader.next().ok());
}

TEST(SpdyFrameReaderTest, RefusesAFrameLongerThanItsBoundBeforeItArrives) {
  SpdyFrameReader reader(16);
  reader.feed(data_frame(1, std::string(17, 'x')).substr(0, kSpdyFrameHeaderSize));
  EXPECT_FALSE(reader.next().ok());
}

TEST(SpdyFrameReaderTest, RefusesControlFramesTooShortForTheirFields) {
  for (const auto& frame : {control_frame(SpdyControl::syn_stream, 0, std::string(9, '\1')),
                            control_frame(SpdyControl::rst_stream, 0, std::string(7, '\1')),
                            control_frame(SpdyControl::ping, 0, std::string(5, '\1')),
                            control_frame(SpdyControl::window_update, 0, std::string(9, '\1')),
                            control_frame(SpdyControl::syn_reply, 0, std::string(4, '\0'))}) {
    SpdyFrameReader reader;
    reader.feed(frame);
    EXPECT_FALSE(reader.next().ok());
  }
}

TEST(SpdyFrameReaderTest, RefusesDataOnStreamZero) {
  SpdyFrameReader reader;
  reader.feed(std::string("\0\0\0\0\0\0\0\0", 8));
  EXPECT_FALSE(reader.next().ok());
}

TEST(SpdyDataTest, LongDataIsSplitIntoFramesWithFinOnTheLast) {
  const std::string data(kMaxSpdyPayload + 10, 'a');
  std::string out;
  append_spdy_data(3, kSpdyFlagFin, data, out);
  SpdyFrameReader reader;
  reader.feed(out);
  const auto frames = read_spdy_frames(reader);
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[0].payload.size(), kMaxSpdyPayload);
  EXPECT_FALSE(frames[0].fin());
  EXPECT_EQ(frames[1].payload.size(), 10U);
  EXPECT_TRUE(frames[1].fin());
}

TEST(SpdyDataTest, EmptyDataWithFinIsOneEmptyFrame) {
  const std::string out = data_frame(9, "", true);
  EXPECT_EQ(out, std::string("\0\0\0\x09\x01\0\0\0", 8));
}

TEST(SpdyHeaderBlockTest, TheDictionaryIsSpdy3s) {
  const auto dictionary = spdy_header_dictionary();
  EXPECT_EQ(dictionary.size(), 1423U);
  // The id a zlib stream names its dictionary by: kubectl's first block carries it.
  EXPECT_EQ(adler32(1, reinterpret_cast<const Bytef*>(dictionary.data()),
                    static_cast<uInt>(dictionary.size())),
            0xe3c6a7c2U);
}

TEST(SpdyHeaderBlockTest, BlocksShareOneZlibStreamPerDirection) {
  SpdyHeaderWriter writer;
  SpdyHeaderReader reader;
  const SpdyHeaders first{{"streamtype", "error"}};
  const SpdyHeaders second{{"streamtype", "stdin"}, {"x", std::string("a\0b", 3)}};
  const std::string one = writer.write(first);
  const std::string two = writer.write(second);
  auto read_one = reader.read(one);
  ASSERT_TRUE(read_one.ok()) << read_one.error().message;
  EXPECT_EQ(*read_one, first);
  auto read_two = reader.read(two);
  ASSERT_TRUE(read_two.ok()) << read_two.error().message;
  EXPECT_EQ(*read_two, second);
  // A reader that missed the first block cannot follow the second.
  SpdyHeaderReader late;
  EXPECT_FALSE(late.read(two).ok());
}

TEST(SpdyHeaderBlockTest, RefusesAnotherDictionary) {
  z_stream zlib{};
  ASSERT_EQ(deflateInit(&zlib, Z_DEFAULT_COMPRESSION), Z_OK);
  const std::string other = "some other dictionary";
  deflateSetDictionary(&zlib, reinterpret_cast<const Bytef*>(other.data()),
                       static_cast<uInt>(other.size()));
  std::string block;
  append_u32(block, 0);
  std::string out(256, '\0');
  zlib.next_in = reinterpret_cast<Bytef*>(block.data());
  zlib.avail_in = static_cast<uInt>(block.size());
  zlib.next_out = reinterpret_cast<Bytef*>(out.data());
  zlib.avail_out = static_cast<uInt>(out.size());
  deflate(&zlib, Z_SYNC_FLUSH);
  out.resize(out.size() - zlib.avail_out);
  deflateEnd(&zlib);
  SpdyHeaderReader reader;
  auto read = reader.read(out);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message.find("dictionary"), std::string::npos) << read.error().message;
}

TEST(SpdyHeaderBlockTest, RefusesABlockThatInflatesPastTheBound) {
  SpdyHeaderWriter writer;
  std::string block;
  append_u32(block, 1);
  append_u32(block, 1);
  block += 'x';
  const std::string value(kMaxSpdyHeaderBlock, 'v');
  append_u32(block, static_cast<uint32_t>(value.size()));
  block += value;
  const std::string compressed = writer.compress(block);
  EXPECT_LT(compressed.size(), 1024U);  // small on the wire, large inflated
  SpdyHeaderReader reader;
  EXPECT_FALSE(reader.read(compressed).ok());
}

TEST(SpdyHeaderBlockTest, RefusesPairsThatDoNotFillTheBlockExactly) {
  std::string overrun;
  append_u32(overrun, 1);
  append_u32(overrun, 10);
  overrun += "short";
  std::string trailing;
  append_u32(trailing, 0);
  trailing += "extra";
  std::string empty_name;
  append_u32(empty_name, 1);
  append_u32(empty_name, 0);
  append_u32(empty_name, 1);
  empty_name += 'v';
  std::string too_many;
  append_u32(too_many, kMaxSpdyHeaderPairs + 1);
  for (const auto& block : {overrun, trailing, empty_name, too_many}) {
    SpdyHeaderWriter writer;
    SpdyHeaderReader reader;
    EXPECT_FALSE(reader.read(writer.compress(block)).ok());
  }
}

TEST(SpdyHeaderBlockTest, AFailedReaderStaysFailed) {
  SpdyHeaderWriter writer;
  SpdyHeaderReader reader;
  EXPECT_FALSE(reader.read("not zlib at all").ok());
  EXPECT_FALSE(reader.read(writer.write({{"a", "b"}})).ok());
}

}  // namespace
}  // namespace portcullis::proto::kubernetes
