// Whether a configuration asks for protocols this gateway is built without. The configuration
// accepts every protocol the project plans for; the caller knows which front ends exist.
#pragma once

#include <span>
#include <string_view>

#include "common/result.h"
#include "config/config.h"

namespace portcullis::config {

// Refuses a listener or a connection whose protocol is not among `built` (front-end names such
// as "postgres"). The error lists every one, as `FILE:LINE: message`, one per line.
Result<void> check_front_ends(const Config& config, std::span<const std::string_view> built);

}  // namespace portcullis::config
