// Percent-encoding (RFC 3986 section 2.1) of a request target's path segments and query
// components, with what a segment or a component may not hide from the gateway refused.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::proto::kubernetes {

// One path segment (between two '/') decoded. Refused: a character RFC 3986 does not allow in
// a segment as it is (a control character, a space, '\', a byte over 0x7f...), an escape that
// is not '%' and two hex digits, and an escape of '/' or '\' or of a control character (NUL
// among them): the API server decodes before it splits the path, so an escaped '/' would make
// it read other segments than the gateway did.
Result<std::string> decode_path_segment(std::string_view raw);

// One query key or value decoded as Go's url.QueryUnescape does, which is what the API server
// reads: '+' is a space. Refused: a character a query may not hold as it is, an invalid escape
// (Go drops the whole parameter where the gateway would have read it) and an escaped NUL (a
// command word ends at a NUL, so the program would get less than was decided).
Result<std::string> decode_query_component(std::string_view raw);

// `decoded` written as a path segment: letters, digits, "-._~" and ":@" as they are, every
// other byte as %XX (upper-case hex), '%' included, so that decoding gives `decoded` back.
std::string encode_path_segment(std::string_view decoded);

}  // namespace portcullis::proto::kubernetes
