// Reading a test server's log: how many times a line appears in it (a server that starts again
// writes its ready line again, so a start waits for one more), and its tail for an error
// message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portcullis::testing {

// The end of a log quoted in an error: enough for the reason a server gave.
inline constexpr std::size_t kLogTailBytes = 4000;

inline std::size_t count_of(std::string_view text, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

inline std::string tail_of(const std::string& text) {
  return text.size() <= kLogTailBytes ? text : "..." + text.substr(text.size() - kLogTailBytes);
}

}  // namespace portcullis::testing
