// Durations and sizes as written in portcullis.yaml and on the command line.
#include "config/units.h"

#include <gtest/gtest.h>

#include <chrono>

namespace portcullis::config {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(*parse_duration("500ms"), 500ms);
  EXPECT_EQ(*parse_duration("30s"), 30s);
  EXPECT_EQ(*parse_duration("15m"), 15min);
  EXPECT_EQ(*parse_duration("8h"), 8h);
  EXPECT_EQ(*parse_duration("30d"), 30 * 24h);
}

TEST(ParseDuration, AcceptsCompoundDurations) {
  EXPECT_EQ(*parse_duration("1h30m"), 90min);
  EXPECT_EQ(*parse_duration("1m30s500ms"), 90500ms);
}

TEST(ParseDuration, AcceptsBareZero) {
  EXPECT_EQ(*parse_duration("0"), Duration::zero());
}

TEST(ParseDuration, RejectsNumberWithoutUnit) {
  EXPECT_FALSE(parse_duration("30").ok());
}

TEST(ParseDuration, RejectsMalformedText) {
  for (const char* text : {"", "s", "-1s", "1.5h", "5w", "1 h", "h1", "30s ", "1hh"}) {
    EXPECT_FALSE(parse_duration(text).ok()) << text;
  }
}

TEST(ParseDuration, RejectsOverflow) {
  EXPECT_FALSE(parse_duration("99999999999999999999d").ok());
  EXPECT_FALSE(parse_duration("9999999999999999d").ok());
}

TEST(ParseDuration, ErrorDescribesTheAcceptedForms) {
  auto result = parse_duration("2 weeks");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("30s"), std::string::npos);
}

TEST(ParseSize, AcceptsPlainBytesAndIecUnits) {
  EXPECT_EQ(*parse_size("65536"), 65536u);
  EXPECT_EQ(*parse_size("10B"), 10u);
  EXPECT_EQ(*parse_size("64KiB"), 64u * 1024);
  EXPECT_EQ(*parse_size("1MiB"), 1u << 20);
  EXPECT_EQ(*parse_size("1GiB"), 1u << 30);
}

TEST(ParseSize, RejectsAmbiguousDecimalUnits) {
  EXPECT_FALSE(parse_size("1MB").ok());
  EXPECT_FALSE(parse_size("64kB").ok());
}

TEST(ParseSize, RejectsMalformedText) {
  for (const char* text : {"", "KiB", "-1", "1 MiB", "1.5MiB", "1MiBs", "0x10"}) {
    EXPECT_FALSE(parse_size(text).ok()) << text;
  }
}

TEST(ParseSize, RejectsOverflow) {
  EXPECT_FALSE(parse_size("99999999999999GiB").ok());
}

TEST(FormatDuration, UsesTheLargestExactUnit) {
  EXPECT_EQ(format_duration(120s), "2m");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(48h), "2d");
  EXPECT_EQ(format_duration(Duration::zero()), "0s");
}

}  // namespace
}  // namespace portcullis::config
