// Checking a subject's characters before it becomes an Identity.
#include "identity/subject.h"

#include <fmt/format.h>

namespace portcullis::identity {
namespace {

// The code point of one UTF-8 sequence at `text[pos]`, or -1 when it is not well formed
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). Advances `pos`.
long decode_utf8(std::string_view text, std::size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t length = 0;
  long code = 0;
  long minimum = 0;
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  if ((lead & 0xe0) == 0xc0) {
    length = 2, code = lead & 0x1f, minimum = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, code = lead & 0x0f, minimum = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, code = lead & 0x07, minimum = 0x10000;
  } else {
    return -1;
  }
  if (text.size() - pos < length) return -1;
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[pos + i]);
    if ((next & 0xc0) != 0x80) return -1;
    code = (code << 6) | (next & 0x3f);
  }
  if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return -1;
  pos += length;
  return code;
}

}  // namespace

Result<void> validate_subject(std::string_view subject, std::string_view what) {
  for (std::size_t pos = 0; pos < subject.size();) {
    const std::size_t at = pos;
    const long code = decode_utf8(subject, pos);
    if (code < 0) return make_error(fmt::format("the {} is not valid UTF-8 (byte {})", what, at));
    // C0 and C1 controls and DEL: a newline or an escape sequence in a log line.
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f))
      return make_error(
          fmt::format("the {} contains a control character (U+{:04X} at byte {})", what, code, at));
    if (code == 0x2028 || code == 0x2029)
      return make_error(fmt::format(
          "the {} contains a line or paragraph separator (U+{:04X} at byte {})", what, code, at));
  }
  return {};
}

}  // namespace portcullis::identity
