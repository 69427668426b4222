// Asciicast: the asciicast v2 format (one JSON header line, then one JSON array per event) in
// which an interactive shell's masked output is recorded, as asciinema and `portcullis
// sessions replay` play it. Pure: the writer only builds lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portcullis::proto::ssh {

class AsciicastWriter {
 public:
  struct Header {
    int width = 80;
    int height = 24;
    int64_t timestamp = 0;  // Unix time of the start
    std::string_view term;  // the client's TERM
    std::string_view title;
  };
  static std::string header(const Header& header);

  // `[seconds, "o", text]`: output shown `seconds` after the start. The format wants UTF-8
  // text: a character cut at the end of `bytes` waits for the next call, and bytes that are not
  // UTF-8 become U+FFFD. Nothing is written for output that is only a cut character.
  void output(double seconds, std::string_view bytes, std::string& out);
  // `[seconds, "r", "WxH"]`: the terminal was resized.
  static void resize(double seconds, int width, int height, std::string& out);

 private:
  std::string carry_;  // the start of a character cut between two outputs
};

// Appends `bytes` to `out` as the inside of a JSON string: escaped, with every byte that is
// not part of a valid UTF-8 sequence replaced by U+FFFD. Returns how many bytes at the end of
// `bytes` are the start of a sequence that may continue (not written).
std::size_t append_json_text(std::string_view bytes, std::string& out);

}  // namespace portcullis::proto::ssh
