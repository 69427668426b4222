// Percent-encoding of path segments and query components, strict where the gateway and the
// API server could otherwise read different things from the same text.
#include "proto/kubernetes/percent_encoding.h"

#include <fmt/format.h>

namespace portcullis::proto::kubernetes {
namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool is_sub_delim(unsigned char c) {
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

// RFC 3986's pchar without its pct-encoded alternative.
bool is_segment_char(unsigned char c) {
  return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}

bool is_query_char(unsigned char c) {
  return is_segment_char(c) || c == '/' || c == '?';
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte of the escape at raw[at] ('%' and two hex digits), or -1 when it is not one.
int escaped_byte(std::string_view raw, std::size_t at) {
  if (raw.size() - at < 3) return -1;
  const int high = hex_value(raw[at + 1]);
  const int low = hex_value(raw[at + 2]);
  if (high < 0 || low < 0) return -1;
  return high * 16 + low;
}

std::string printable(unsigned char c) {
  if (c >= 0x21 && c < 0x7f) return fmt::format("'{}'", static_cast<char>(c));
  return fmt::format("byte 0x{:02x}", c);
}

}  // namespace

Result<std::string> decode_path_segment(std::string_view raw) {
  std::string decoded;
  decoded.reserve(raw.size());
  for (std::size_t at = 0; at < raw.size(); ++at) {
    const auto c = static_cast<unsigned char>(raw[at]);
    if (c != '%') {
      if (!is_segment_char(c))
        return make_error(fmt::format(
            "the path holds {}, which a request target may not hold unescaped", printable(c)));
      decoded += static_cast<char>(c);
      continue;
    }
    const int byte = escaped_byte(raw, at);
    if (byte < 0) return make_error("the path holds a '%' that is not followed by two hex digits");
    if (byte == '/' || byte == '\\')
      return make_error(fmt::format(
          "the path holds an escaped {} (%{:02X}), which would split it differently upstream",
          printable(static_cast<unsigned char>(byte)), byte));
    if (is_control(static_cast<unsigned char>(byte)))
      return make_error(fmt::format("the path holds an escaped control character (%{:02X})", byte));
    decoded += static_cast<char>(byte);
    at += 2;
  }
  return decoded;
}

Result<std::string> decode_query_component(std::string_view raw) {
  std::string decoded;
  decoded.reserve(raw.size());
  for (std::size_t at = 0; at < raw.size(); ++at) {
    const auto c = static_cast<unsigned char>(raw[at]);
    if (c == '+') {
      decoded += ' ';
      continue;
    }
    if (c != '%') {
      if (!is_query_char(c))
        return make_error(fmt::format(
            "the query holds {}, which a request target may not hold unescaped", printable(c)));
      decoded += static_cast<char>(c);
      continue;
    }
    const int byte = escaped_byte(raw, at);
    if (byte < 0) return make_error("the query holds a '%' that is not followed by two hex digits");
    if (byte == 0) return make_error("the query holds an escaped NUL (%00)");
    decoded += static_cast<char>(byte);
    at += 2;
  }
  return decoded;
}

std::string encode_path_segment(std::string_view decoded) {
  std::string encoded;
  encoded.reserve(decoded.size());
  for (const char ch : decoded) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || c == ':' || c == '@')
      encoded += ch;
    else
      encoded += fmt::format("%{:02X}", c);
  }
  return encoded;
}

}  // namespace portcullis::proto::kubernetes
