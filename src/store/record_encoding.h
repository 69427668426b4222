// How every state store keeps a record's times and lists in a column: milliseconds since the
// Unix epoch (UTC) and JSON arrays of strings, so that the stores read back the same values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/state_store.h"

namespace portcullis::store {

int64_t to_millis(TimePoint t);
TimePoint from_millis(int64_t ms);

std::string groups_to_json(const std::vector<std::string>& groups);
// Anything but an array of strings reads as no groups: a hand-edited row never grants more.
std::vector<std::string> groups_from_json(std::string_view text);

}  // namespace portcullis::store
