// Compact JWS serialisation of a JWT (RFC 7515 section 7.1): parsing into header, payload and
// signature without verifying anything, and encoding. Parsing is total: any input gives a
// Jwt or a "malformed token" reason, never an exception (it is fuzzed).
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::identity {

// Longest token accepted. Real OIDC tokens with many groups stay well below 8 KiB; the limit
// keeps a hostile client from making the gateway decode and parse megabytes per attempt.
inline constexpr std::size_t kMaxTokenLength = 16 * 1024;

struct Jwt {
  boost::json::object header;
  boost::json::object payload;
  std::string alg;                 // header "alg", not yet checked against the accepted set
  std::optional<std::string> kid;  // header "kid"
  std::string signing_input;       // BASE64URL(header) "." BASE64URL(payload), as received
  std::string signature;           // decoded signature bytes
};

Result<Jwt> parse_jwt(std::string_view token);

// BASE64URL(JSON(header)) "." BASE64URL(JSON(payload)).
std::string jws_signing_input(const boost::json::object& header,
                              const boost::json::object& payload);

}  // namespace portcullis::identity
