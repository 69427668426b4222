// An iterative glob matcher: on a mismatch it goes back to the last `*` only, so the work is
// at most the product of the two lengths, never exponential.
#include "shell/glob_match.h"

#include <cstddef>

namespace portcullis::shell {
namespace {

// Matches the bracket expression at pattern[p] (just after `[`) against c. Sets `end` to the
// index just past `]`; false with end = npos when the expression does not close (then `[`
// is an ordinary character).
bool match_bracket(std::string_view pattern, std::size_t p, char c, std::size_t& end) {
  bool negate = false;
  if (p < pattern.size() && (pattern[p] == '!' || pattern[p] == '^')) {
    negate = true;
    ++p;
  }
  bool matched = false;
  bool first = true;
  while (p < pattern.size()) {
    char lo = pattern[p];
    if (lo == ']' && !first) {
      end = p + 1;
      return matched != negate;
    }
    first = false;
    if (lo == '\\' && p + 1 < pattern.size()) {
      ++p;
      lo = pattern[p];
    }
    char hi = lo;
    if (p + 2 < pattern.size() && pattern[p + 1] == '-' && pattern[p + 2] != ']') {
      hi = pattern[p + 2];
      if (hi == '\\' && p + 3 < pattern.size()) {
        ++p;
        hi = pattern[p + 2];
      }
      p += 3;
    } else {
      ++p;
    }
    auto u = static_cast<unsigned char>(c);
    if (static_cast<unsigned char>(lo) <= u && u <= static_cast<unsigned char>(hi)) {
      matched = true;
    }
  }
  end = std::string_view::npos;
  return false;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  std::size_t p = 0;
  std::size_t s = 0;
  std::size_t star_p = std::string_view::npos;  // just after the last `*` seen
  std::size_t star_s = 0;                       // where that `*` starts matching in path
  while (s < path.size()) {
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*') {
        while (p < pattern.size() && pattern[p] == '*') ++p;
        star_p = p;
        star_s = s;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++s;
        continue;
      }
      if (pc == '[') {
        std::size_t end = 0;
        bool ok = match_bracket(pattern, p + 1, path[s], end);
        if (end != std::string_view::npos) {
          if (ok) {
            p = end;
            ++s;
            continue;
          }
        } else if (path[s] == '[') {
          ++p;
          ++s;
          continue;
        }
      } else {
        if (pc == '\\' && p + 1 < pattern.size()) {
          ++p;
          pc = pattern[p];
        }
        if (pc == path[s]) {
          ++p;
          ++s;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    s = ++star_s;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace portcullis::shell
