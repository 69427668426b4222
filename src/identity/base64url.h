// base64url without padding (RFC 4648 section 5), the encoding of every JWT part and JWK field.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portcullis::identity {

std::string base64url_encode(std::string_view bytes);

// Strict: no padding, no whitespace, no characters outside the URL-safe alphabet, and unused
// trailing bits must be zero, so that every byte string has exactly one accepted encoding.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace portcullis::identity
