// Glob matching for column rules.
#include "masking/column_glob.h"

#include <string>

namespace portcullis::masking {
namespace {

char fold(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

// Iterative with one backtrack point: linear in practice, never exponential.
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || fold(pattern[p]) == fold(text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool column_rule_matches(std::string_view glob, std::string_view table, std::string_view column) {
  if (table.empty()) {
    const std::size_t dot = glob.rfind('.');
    return glob_match(dot == std::string_view::npos ? glob : glob.substr(dot + 1), column);
  }
  std::string full;
  full.reserve(table.size() + 1 + column.size());
  full.append(table).append(1, '.').append(column);
  return glob_match(glob, full);
}

}  // namespace portcullis::masking
