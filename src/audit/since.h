// The start of a time window as operators write it on the command line (`--since`): an
// RFC 3339 time, a date, or a duration back from now (`15m`, `2h`, `1d`).
#pragma once

#include <string_view>

#include "audit/event.h"
#include "common/result.h"

namespace portcullis::audit {

// `2026-11-25T21:04:05Z`, `2026-11-25T21:04:05.5+01:00` (any offset, up to nanoseconds; `t`,
// `z` and a space for `T` are accepted as RFC 3339 allows), `2026-11-25` (midnight UTC), or a
// duration in the configuration's notation (`90s`, `15m`, `2h`, `1d`, `1h30m`) before `now`.
// A time without an offset is refused rather than guessed to be local or UTC.
Result<TimePoint> parse_since(std::string_view text, TimePoint now);

// A point in time as parse_since reads an RFC 3339 time or a date, without the durations: an
// expiry given as a time.
Result<TimePoint> parse_time(std::string_view text);

}  // namespace portcullis::audit
