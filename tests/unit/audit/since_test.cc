// --since: RFC 3339 times, dates, and durations back from now, as the journal's time text.
#include "audit/since.h"

#include <gtest/gtest.h>

namespace portcullis::audit {
namespace {

using namespace std::chrono_literals;

// 2026-11-25T21:04:05Z.
const TimePoint kNow = TimePoint(std::chrono::seconds(1'795'640'645));

std::string since(std::string_view text) {
  auto parsed = parse_since(text, kNow);
  if (!parsed) return "error: " + parsed.error().message;
  return format_time(*parsed);
}

// The journal's clock is 64-bit nanoseconds: what it cannot hold is refused, never wrapped.
TEST(ParseSince, RefusesTimesTheClockCannotHold) {
  EXPECT_EQ(since("1677-12-31"), "error: the year must be between 1678 and 2261");
  EXPECT_EQ(since("2262-01-01T00:00:00Z"), "error: the year must be between 1678 and 2261");
  EXPECT_EQ(since("90000999999999s"), "error: a duration back from now of at most 200 years");
  EXPECT_EQ(since("1678-06-01"), "1678-06-01T00:00:00.000000000Z");
  // A leap second or an offset that carries the time past the last year is refused too.
  EXPECT_EQ(since("2261-12-31T23:59:60.5Z"),
            "error: the time must be within the years 1678 to 2261 (UTC)");
  EXPECT_EQ(since("1678-01-01T00:30:00+01:00"),
            "error: the time must be within the years 1678 to 2261 (UTC)");
}

TEST(ParseSince, ReadsAnRfc3339TimeInUtc) {
  EXPECT_EQ(since("2026-11-25T21:04:05Z"), "2026-11-25T21:04:05.000000000Z");
}

TEST(ParseSince, ConvertsAnOffsetToUtc) {
  EXPECT_EQ(since("2026-11-25T22:04:05+01:00"), "2026-11-25T21:04:05.000000000Z");
  EXPECT_EQ(since("2026-11-25T16:34:05-04:30"), "2026-11-25T21:04:05.000000000Z");
  EXPECT_EQ(since("2026-11-26T00:30:00+05:30"), "2026-11-25T19:00:00.000000000Z");
}

TEST(ParseSince, KeepsFractionsDownToNanoseconds) {
  EXPECT_EQ(since("2026-11-25T21:04:05.5Z"), "2026-11-25T21:04:05.500000000Z");
  EXPECT_EQ(since("2026-11-25T21:04:05.123456789Z"), "2026-11-25T21:04:05.123456789Z");
  EXPECT_EQ(since("2026-11-25T21:04:05.1234567891Z"), "2026-11-25T21:04:05.123456789Z");
}

TEST(ParseSince, AcceptsTheSpellingsRfc3339Allows) {
  EXPECT_EQ(since("2026-11-25t21:04:05z"), "2026-11-25T21:04:05.000000000Z");
  EXPECT_EQ(since("2026-11-25 21:04:05Z"), "2026-11-25T21:04:05.000000000Z");
}

TEST(ParseSince, ReadsADateAsMidnightUtc) {
  EXPECT_EQ(since("2026-11-25"), "2026-11-25T00:00:00.000000000Z");
}

TEST(ParseSince, ReadsADurationAsTimeBeforeNow) {
  EXPECT_EQ(since("15m"), "2026-11-25T20:49:05.000000000Z");
  EXPECT_EQ(since("2h"), "2026-11-25T19:04:05.000000000Z");
  EXPECT_EQ(since("1d"), "2026-11-24T21:04:05.000000000Z");
  EXPECT_EQ(since("1h30m"), "2026-11-25T19:34:05.000000000Z");
  EXPECT_EQ(since("500ms"), "2026-11-25T21:04:04.500000000Z");
}

TEST(ParseSince, RefusesATimeWithoutOffset) {
  EXPECT_EQ(since("2026-11-25T21:04:05"),
            "error: the time needs an offset (Z for UTC, or +HH:MM / -HH:MM)");
}

TEST(ParseSince, RefusesImpossibleDatesAndTimes) {
  EXPECT_EQ(since("2026-02-30"), "error: no such date");
  EXPECT_EQ(since("2026-13-01T00:00:00Z"), "error: no such date");
  EXPECT_EQ(since("2026-11-25T24:00:00Z"), "error: no such time of day");
  EXPECT_EQ(since("2026-11-25T21:04:05+24:00"), "error: no such UTC offset");
}

TEST(ParseSince, RefusesWhatIsNeitherATimeNorADuration) {
  for (const char* text : {"", "yesterday", "15", "-15m", "2026-11-25T21:04Z",
                           "2026-11-25T21:04:05.Z", "2026-11-25T21:04:05Zjunk", "2026/11/25"})
    EXPECT_TRUE(since(text).starts_with("error: expected an RFC 3339 time"))
        << text << ": " << since(text);
}

}  // namespace
}  // namespace portcullis::audit
