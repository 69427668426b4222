// Parsing `--since`: RFC 3339 times (section 5.6), dates, and durations back from now.
#include "audit/since.h"

#include <chrono>
#include <cstdint>

#include "config/units.h"

namespace portcullis::audit {
namespace {

constexpr std::string_view kSinceForm =
    "expected an RFC 3339 time (2026-11-25T21:04:05Z, 2026-11-25T22:04:05+01:00), a date "
    "(2026-11-25) or a duration back from now (15m, 2h, 1d)";

// The journal's times are nanoseconds of the system clock in 64 bits: about 292 years either
// side of 1970. Years and durations beyond are refused rather than wrapped around.
constexpr int kFirstYear = 1678;
constexpr int kLastYear = 2261;
constexpr auto kLongestDuration = std::chrono::hours(24 * 365 * 200);

// RFC 3339 allows at most nine fractional digits to matter here: the journal keeps
// nanoseconds; further digits are read and dropped.
constexpr int kNanosecondDigits = 9;

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool done() const { return pos_ == text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }

  // Exactly `count` decimal digits.
  bool digits(int count, int& out) {
    if (text_.size() - pos_ < static_cast<std::size_t>(count)) return false;
    out = 0;
    for (int i = 0; i < count; ++i) {
      const char c = text_[pos_ + static_cast<std::size_t>(i)];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    pos_ += static_cast<std::size_t>(count);
    return true;
  }

  bool take(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }

  // One or more digits after the decimal point, as nanoseconds.
  bool fraction(std::int64_t& nanos) {
    nanos = 0;
    int count = 0;
    while (!done() && peek() >= '0' && peek() <= '9') {
      if (count < kNanosecondDigits) nanos = nanos * 10 + (peek() - '0');
      ++count;
      ++pos_;
    }
    for (int i = count; i < kNanosecondDigits; ++i) nanos *= 10;
    return count > 0;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

Result<TimePoint> parse_rfc3339(std::string_view text) {
  Reader reader(text);
  int year = 0, month = 0, day = 0;
  if (!reader.digits(4, year) || !reader.take('-') || !reader.digits(2, month) ||
      !reader.take('-') || !reader.digits(2, day))
    return make_error(std::string(kSinceForm));
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return make_error("no such date");
  if (year < kFirstYear || year > kLastYear)
    return make_error("the year must be between 1678 and 2261");
  TimePoint time = std::chrono::sys_days(date);
  if (reader.done()) return time;
  if (!reader.take('T') && !reader.take('t') && !reader.take(' '))
    return make_error(std::string(kSinceForm));
  int hour = 0, minute = 0, second = 0;
  if (!reader.digits(2, hour) || !reader.take(':') || !reader.digits(2, minute) ||
      !reader.take(':') || !reader.digits(2, second))
    return make_error(std::string(kSinceForm));
  // 60 is a leap second (RFC 3339 section 5.7); the system clock has none, so it counts as
  // the next second's start.
  if (hour > 23 || minute > 59 || second > 60) return make_error("no such time of day");
  std::int64_t nanos = 0;
  if (reader.take('.') && !reader.fraction(nanos)) return make_error(std::string(kSinceForm));
  time += std::chrono::hours(hour) + std::chrono::minutes(minute) + std::chrono::seconds(second) +
          std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(nanos));
  if (reader.take('Z') || reader.take('z')) {
    if (!reader.done()) return make_error(std::string(kSinceForm));
    return time;
  }
  const bool east = reader.take('+');
  if (!east && !reader.take('-')) {
    if (reader.done())
      return make_error("the time needs an offset (Z for UTC, or +HH:MM / -HH:MM)");
    return make_error(std::string(kSinceForm));
  }
  int offset_hours = 0, offset_minutes = 0;
  if (!reader.digits(2, offset_hours) || !reader.take(':') || !reader.digits(2, offset_minutes) ||
      !reader.done())
    return make_error(std::string(kSinceForm));
  if (offset_hours > 23 || offset_minutes > 59) return make_error("no such UTC offset");
  const auto offset = std::chrono::hours(offset_hours) + std::chrono::minutes(offset_minutes);
  // Local time east of UTC is ahead of it: subtract the offset to get UTC.
  return east ? time - offset : time + offset;
}

// A time within the years the journal's clock holds, whatever a leap second or an offset did
// to the year written: what is accepted comes back the same through format_time.
Result<TimePoint> within_clock_years(Result<TimePoint> time) {
  if (!time) return time;
  using namespace std::chrono;
  const TimePoint earliest = sys_days(year(kFirstYear) / January / 1);
  const TimePoint after_last = sys_days(year(kLastYear) / December / 31) + days(1);
  if (*time < earliest || *time >= after_last)
    return make_error("the time must be within the years 1678 to 2261 (UTC)");
  return time;
}

bool looks_like_date(std::string_view text) {
  return text.size() >= 5 && text[4] == '-';
}

}  // namespace

Result<TimePoint> parse_time(std::string_view text) {
  constexpr std::string_view kTimeForm =
      "expected an RFC 3339 time (2026-11-25T21:04:05Z, 2026-11-25T22:04:05+01:00) or a date "
      "(2026-11-25)";
  if (!looks_like_date(text)) return make_error(std::string(kTimeForm));
  auto time = within_clock_years(parse_rfc3339(text));
  // parse_rfc3339 names the forms --since takes; a time takes no duration.
  if (!time && time.error().message == kSinceForm) return make_error(std::string(kTimeForm));
  return time;
}

Result<TimePoint> parse_since(std::string_view text, TimePoint now) {
  if (text.empty()) return make_error(std::string(kSinceForm));
  if (looks_like_date(text)) return within_clock_years(parse_rfc3339(text));
  auto duration = config::parse_duration(text);
  if (!duration) return make_error(std::string(kSinceForm));
  if (*duration > kLongestDuration)
    return make_error("a duration back from now of at most 200 years");
  return now - std::chrono::duration_cast<TimePoint::duration>(*duration);
}

}  // namespace portcullis::audit
