// What the tests ask of an output or a list: whether it holds a part, or an item.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::testing {

inline bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

inline bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace portcullis::testing
