// asciicast v2 lines: JSON that asciinema and the replay read, UTF-8 kept valid.
#include "proto/ssh/asciicast.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

namespace portcullis::proto::ssh {
namespace {

TEST(AsciicastTest, HeaderIsVersionTwoJson) {
  const auto header = AsciicastWriter::header(
      {.width = 120, .height = 40, .timestamp = 1700000000, .term = "xterm", .title = "a \"b\""});
  ASSERT_EQ(header.back(), '\n');
  const auto value = boost::json::parse(header);
  EXPECT_EQ(value.at("version").as_int64(), 2);
  EXPECT_EQ(value.at("width").as_int64(), 120);
  EXPECT_EQ(value.at("height").as_int64(), 40);
  EXPECT_EQ(value.at("timestamp").as_int64(), 1700000000);
  EXPECT_EQ(value.at("env").at("TERM").as_string(), "xterm");
  EXPECT_EQ(value.at("title").as_string(), "a \"b\"");
}

TEST(AsciicastTest, OutputEventsCarryTheBytesAsJsonText) {
  AsciicastWriter writer;
  std::string out;
  writer.output(1.5, "$ ls\r\n\x1b[1mbold\x1b[0m \"q\" \\ \t\x7f", out);
  ASSERT_EQ(out.back(), '\n');
  const auto event = boost::json::parse(out).as_array();
  ASSERT_EQ(event.size(), 3u);
  EXPECT_DOUBLE_EQ(event[0].to_number<double>(), 1.5);
  EXPECT_EQ(event[1].as_string(), "o");
  EXPECT_EQ(event[2].as_string(), "$ ls\r\n\x1b[1mbold\x1b[0m \"q\" \\ \t\x7f");
}

TEST(AsciicastTest, ACharacterCutBetweenOutputsIsJoined) {
  AsciicastWriter writer;
  std::string first, second;
  writer.output(0.1, "caf\xc3", first);  // é cut after its first byte
  writer.output(0.2, "\xa9!", second);
  EXPECT_EQ(boost::json::parse(first).as_array()[2].as_string(), "caf");
  EXPECT_EQ(boost::json::parse(second).as_array()[2].as_string(), "\xc3\xa9!");
}

TEST(AsciicastTest, OutputThatIsOnlyACutCharacterWritesNothingYet) {
  AsciicastWriter writer;
  std::string out;
  writer.output(0.1, "\xe2\x82", out);
  EXPECT_TRUE(out.empty());
  writer.output(0.2, "\xac", out);
  EXPECT_EQ(boost::json::parse(out).as_array()[2].as_string(), "\xe2\x82\xac");
}

TEST(AsciicastTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  struct Row {
    std::string bytes, text;
  };
  const std::string r = "\xef\xbf\xbd";
  const Row rows[] = {
      {"a\xff"
       "b",
       "a" + r + "b"},
      {"\x80", r},                          // a continuation byte alone
      {"\xc0\xaf", r + r},                  // overlong '/'
      {"\xed\xa0\x80", r + r + r},          // a surrogate
      {"\xf4\x90\x80\x80", r + r + r + r},  // above U+10FFFF
      {"\xc3(", r + "("},                   // a lead byte without its continuation
  };
  for (const auto& row : rows) {
    AsciicastWriter writer;
    std::string out;
    writer.output(0, row.bytes, out);
    EXPECT_EQ(boost::json::parse(out).as_array()[2].as_string(), row.text);
  }
}

TEST(AsciicastTest, ResizeEvents) {
  std::string out;
  AsciicastWriter::resize(2.25, 100, 30, out);
  const auto event = boost::json::parse(out).as_array();
  EXPECT_EQ(event[1].as_string(), "r");
  EXPECT_EQ(event[2].as_string(), "100x30");
}

}  // namespace
}  // namespace portcullis::proto::ssh
