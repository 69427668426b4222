// The clock of the identity tests: tokens, keys and certificates are made and checked at a
// fixed instant, never the real time, so that a test reads the same on any day.
#pragma once

#include <chrono>
#include <cstdint>

#include "identity/claims.h"

namespace portcullis::identity::testing {

inline const TimePoint kNow = TimePoint(std::chrono::seconds(1'700'000'000));
// kNow in seconds since the epoch, as a token's claims carry it.
inline constexpr int64_t kNowSecs = 1'700'000'000;
// The clock skew the token verifiers are given.
inline constexpr auto kLeeway = std::chrono::milliseconds(std::chrono::seconds(60));

}  // namespace portcullis::identity::testing
