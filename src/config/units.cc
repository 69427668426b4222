// Parsing of the duration and size notation used by the configuration and the CLI.
#include "config/units.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace portcullis::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

// Longest suffixes first where one is a prefix of another ("ms" before "m").
constexpr std::array<Unit, 5> kDurationUnits{{
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"d", 24 * 60 * 60 * 1000},
}};

constexpr std::array<Unit, 4> kSizeUnits{{
    {"KiB", std::uint64_t{1} << 10},
    {"MiB", std::uint64_t{1} << 20},
    {"GiB", std::uint64_t{1} << 30},
    {"B", 1},
}};

constexpr std::string_view kDurationForm = "expected a duration such as 500ms, 30s, 15m, 8h or 30d";
constexpr std::string_view kSizeForm = "expected a size such as 65536, 64KiB, 1MiB or 1GiB";

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads the leading decimal digits of `text`; advances `text` past them.
bool take_number(std::string_view& text, std::uint64_t& out) {
  std::size_t n = 0;
  while (n < text.size() && is_digit(text[n])) ++n;
  if (n == 0) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + n, out);
  if (ec != std::errc() || end != text.data() + n) return false;
  text.remove_prefix(n);
  return true;
}

bool multiply_checked(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  if (text == "0") return Duration::zero();
  if (text.empty()) return make_error(std::string(kDurationForm));
  // Kept well inside the range of std::chrono::milliseconds' representation.
  constexpr std::uint64_t kMaxMillis = std::numeric_limits<std::int64_t>::max() / 2;
  std::uint64_t total = 0;
  while (!text.empty()) {
    std::uint64_t number = 0;
    if (!take_number(text, number)) return make_error(std::string(kDurationForm));
    const Unit* unit = nullptr;
    for (const auto& u : kDurationUnits) {
      if (text.starts_with(u.suffix)) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) {
      return make_error(std::string(kDurationForm) + " (units: ms, s, m, h, d)");
    }
    text.remove_prefix(unit->suffix.size());
    std::uint64_t part = 0;
    if (!multiply_checked(number, unit->factor, part) || part > kMaxMillis ||
        total + part > kMaxMillis) {
      return make_error("duration is too large");
    }
    total += part;
  }
  return Duration(static_cast<Duration::rep>(total));
}

Result<std::size_t> parse_size(std::string_view text) {
  std::string_view rest = text;
  std::uint64_t number = 0;
  if (!take_number(rest, number)) return make_error(std::string(kSizeForm));
  std::uint64_t factor = 1;
  if (!rest.empty()) {
    const Unit* unit = nullptr;
    for (const auto& u : kSizeUnits) {
      if (rest == u.suffix) unit = &u;
    }
    if (unit == nullptr) {
      // kB/MB are ambiguous (PostgreSQL reads them as powers of 1024); ask for the IEC form.
      return make_error(std::string(kSizeForm) + " (units: B, KiB, MiB, GiB)");
    }
    factor = unit->factor;
  }
  std::uint64_t bytes = 0;
  if (!multiply_checked(number, factor, bytes) || bytes > std::numeric_limits<std::size_t>::max()) {
    return make_error("size is too large");
  }
  return static_cast<std::size_t>(bytes);
}

std::string format_duration(Duration d) {
  auto ms = static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count());
  if (ms == 0) return "0s";
  for (auto it = kDurationUnits.rbegin(); it != kDurationUnits.rend(); ++it) {
    if (ms % it->factor == 0) return std::to_string(ms / it->factor) + std::string(it->suffix);
  }
  return std::to_string(ms) + "ms";
}

}  // namespace portcullis::config
