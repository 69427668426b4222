// libFuzzer target: `--since` and the API's `since=` (audit::parse_since) on arbitrary text.
// Invariants: an error has a message and never repeats the text (it may be a token pasted in
// the wrong place; checked where the text has a character no fixed message has); a duration goes
// back from now, never forward; an accepted time comes back unchanged through format_time and
// parse_since.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "audit/event.h"
#include "audit/since.h"
#include "config/units.h"

namespace {

using namespace portcullis;
// 2026-11-25T21:04:05.123456789Z, with nanoseconds so that none is lost on the way.
const audit::TimePoint kNow =
    audit::TimePoint(std::chrono::nanoseconds(1'795'640'645'123'456'789LL));

}  // namespace

// Whether `text` has a character that none of parse_since's fixed error texts has.
bool telling(std::string_view text) {
  for (unsigned char c : text) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view(" (),:+-./").find(static_cast<char>(c)) != std::string_view::npos;
    if (!plain) return true;
  }
  return false;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact copy, so that ASan catches a read one byte past the text.
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto since = audit::parse_since(text, kNow);
  if (!since) {
    const auto& message = since.error().message;
    if (message.empty()) __builtin_trap();
    // The fixed texts hold letters, digits, spaces and ( ) , : + - . / only: a text with any
    // other character found in the message was repeated. And none grows with the text.
    if (message.size() > 512) __builtin_trap();
    if (text.size() >= 4 && telling(text) && message.find(text) != std::string::npos)
      __builtin_trap();
    return 0;
  }
  if (config::parse_duration(text) && *since > kNow) __builtin_trap();
  const auto again = audit::parse_since(audit::format_time(*since), kNow);
  if (!again || *again != *since) __builtin_trap();
  return 0;
}
