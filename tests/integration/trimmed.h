// A command's output without the line ending it printed last.
#pragma once

#include <string>

namespace portcullis::testing {

inline std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace portcullis::testing
