// asciicast v2 lines.
#include "proto/ssh/asciicast.h"

#include <fmt/format.h>

namespace portcullis::proto::ssh {
namespace {

constexpr std::string_view kReplacement = "\xef\xbf\xbd";

// The length of the UTF-8 sequence `lead` begins, 0 for a byte that cannot begin one.
std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// Whether the `length` bytes at `p` form one valid sequence (no overlong forms, no
// surrogates, nothing above U+10FFFF). `available` bytes are there; fewer than `length`:
// whether they can still begin one.
bool valid_sequence(const unsigned char* p, std::size_t length, std::size_t available) {
  const std::size_t n = std::min(length, available);
  for (std::size_t i = 1; i < n; ++i)
    if ((p[i] & 0xc0) != 0x80) return false;
  if (n >= 2) {
    if (p[0] == 0xe0 && p[1] < 0xa0) return false;  // overlong
    if (p[0] == 0xed && p[1] > 0x9f) return false;  // surrogate
    if (p[0] == 0xf0 && p[1] < 0x90) return false;  // overlong
    if (p[0] == 0xf4 && p[1] > 0x8f) return false;  // above U+10FFFF
  }
  return true;
}

void append_quoted(std::string_view text, std::string& out) {
  out.push_back('"');
  out.append(text);
  out.push_back('"');
}

}  // namespace

std::size_t append_json_text(std::string_view bytes, std::string& out) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char c = data[i];
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20 || c == 0x7f)
            out += fmt::format("\\u{:04x}", c);
          else
            out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    const std::size_t length = sequence_length(c);
    const std::size_t available = bytes.size() - i;
    if (length == 0 || !valid_sequence(data + i, length, available)) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (available < length) return available;  // cut: the rest may come in the next output
    out.append(bytes.substr(i, length));
    i += length;
  }
  return 0;
}

std::string AsciicastWriter::header(const Header& header) {
  std::string out = fmt::format(R"({{"version": 2, "width": {}, "height": {}, "timestamp": {})",
                                header.width, header.height, header.timestamp);
  out += R"(, "env": {"TERM": ")";
  append_json_text(header.term, out);
  out += R"("}, "title": ")";
  append_json_text(header.title, out);
  out += "\"}\n";
  return out;
}

void AsciicastWriter::output(double seconds, std::string_view bytes, std::string& out) {
  std::string joined;
  if (!carry_.empty()) {
    joined = carry_ + std::string(bytes);
    bytes = joined;
    carry_.clear();
  }
  std::string text;
  const std::size_t cut = append_json_text(bytes, text);
  if (cut > 0) carry_.assign(bytes.substr(bytes.size() - cut));
  if (text.empty()) return;
  out += fmt::format("[{:.6f}, \"o\", ", seconds);
  append_quoted(text, out);
  out += "]\n";
}

void AsciicastWriter::resize(double seconds, int width, int height, std::string& out) {
  out += fmt::format("[{:.6f}, \"r\", \"{}x{}\"]\n", seconds, width, height);
}

}  // namespace portcullis::proto::ssh
