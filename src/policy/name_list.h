// Membership in a list of names from the configuration (subjects, kinds, statement kinds): the
// rules' lists are short, so a linear search.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::policy {

inline bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace portcullis::policy
