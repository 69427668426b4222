// The front ends built into this gateway, by protocol name.
#pragma once

#include <span>
#include <string_view>

#include "gateway/front_end.h"

namespace portcullis::proto {

std::span<const gateway::FrontEndEntry> front_ends();
// The entry for `protocol`, or null when no such front end is built in.
const gateway::FrontEndEntry* find_front_end(std::string_view protocol);

}  // namespace portcullis::proto
