// Splitting a watch response into its lines.
#include "proto/kubernetes/json_lines.h"

#include <fmt/format.h>

namespace portcullis::proto::kubernetes {
namespace {

// JSON's whitespace (RFC 8259, section 2).
bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

Result<void> JsonLines::feed(std::string_view chunk) {
  if (failed_) return make_error("the watch stream already failed");
  // The lengths of the lines the chunk ends or continues, before anything is held.
  std::size_t line = partial_line_;
  for (std::size_t at = 0; at < chunk.size();) {
    const auto newline = chunk.find('\n', at);
    const auto end = newline == std::string_view::npos ? chunk.size() : newline;
    line += end - at;
    if (line > max_line_) {
      failed_ = true;
      return make_error(
          fmt::format("a document of the watch stream is longer than {} bytes", max_line_));
    }
    if (newline == std::string_view::npos) break;
    line = 0;
    at = newline + 1;
  }
  partial_line_ = line;
  // What next() returned is dropped only here, so that its views stay valid until now.
  if (start_ > 0) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(chunk);
  return {};
}

std::optional<std::string_view> JsonLines::next() {
  if (failed_) return std::nullopt;
  const std::string_view held(buffer_);
  while (true) {
    const auto newline = held.find('\n', start_ + scanned_);
    if (newline == std::string_view::npos) {
      scanned_ = held.size() - start_;
      return std::nullopt;
    }
    const auto line = held.substr(start_, newline - start_);
    start_ = newline + 1;
    scanned_ = 0;
    if (!is_blank(line)) return line;
  }
}

Result<void> JsonLines::finish() const {
  if (failed_) return make_error("the watch stream already failed");
  if (!is_blank(std::string_view(buffer_).substr(start_)))
    return make_error("the watch stream ended inside a document");
  return {};
}

}  // namespace portcullis::proto::kubernetes
