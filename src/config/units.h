// Durations (`500ms`, `30s`, `15m`, `8h`, `30d`, `1h30m`) and sizes (`64KiB`, `1MiB`, plain
// bytes) as written in portcullis.yaml and on the command line (`--ttl 1h`).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "config/config.h"

namespace portcullis::config {

// A non-negative duration: one or more NUMBER UNIT pairs, units ms, s, m, h, d; a bare `0` is
// zero. The error message describes the accepted forms; it does not repeat the input.
Result<Duration> parse_duration(std::string_view text);

// A size in bytes: a plain number of bytes, or NUMBER followed by B, KiB, MiB or GiB.
Result<std::size_t> parse_size(std::string_view text);

// The shortest exact spelling of `d` in the units above (`90s` -> "90s", `3600000ms` -> "1h").
std::string format_duration(Duration d);

}  // namespace portcullis::config
