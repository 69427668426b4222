// Reading JWT claims (RFC 7519 section 4.1) from a parsed payload without trusting their
// types, and checking the time claims with a clock-skew leeway.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace portcullis::identity {

using TimePoint = std::chrono::system_clock::time_point;

// A value from a token, made safe to put in a refusal reason: quoted, printable ASCII only
// (anything else becomes '?'), and cut to a short length.
std::string quote_untrusted(std::string_view value);

// A required string claim; a missing or non-string claim is a malformed token.
Result<std::string> string_claim(const boost::json::object& payload, std::string_view name);

// An optional string claim: nullopt when absent, an error when present but not a string.
Result<std::optional<std::string>> optional_string_claim(const boost::json::object& payload,
                                                         std::string_view name);

// A list of strings: a JSON array of strings, or (when `single_string_ok`) one string.
// An absent claim gives an empty list.
Result<std::vector<std::string>> string_list_claim(const boost::json::object& payload,
                                                   std::string_view name, bool single_string_ok);

// A NumericDate claim (seconds since the epoch, integer or fractional); nullopt when absent.
Result<std::optional<TimePoint>> numeric_date_claim(const boost::json::object& payload,
                                                    std::string_view name);

// Checks exp (required), nbf and iat (optional) against `now` with `leeway` either way and
// returns the expiry. Reasons: "token expired", "token not yet valid", "token issued in the
// future".
Result<TimePoint> check_time_claims(const boost::json::object& payload, TimePoint now,
                                    std::chrono::milliseconds leeway);

}  // namespace portcullis::identity
