// JsonLines: splits a watch response (one JSON document per line, as the API server streams
// `?watch=1`) into its documents, whatever chunks the body arrives in. Pure: no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::proto::kubernetes {

class JsonLines {
 public:
  // A line is held whole until its end to be masked as one document; the bound is the memory
  // one watch may hold. 16 MiB is ample: etcd refuses objects above 1.5 MiB by default, and a
  // watch event holds one object.
  static constexpr std::size_t kDefaultMaxLine = 16 * 1024 * 1024;

  explicit JsonLines(std::size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

  // Appends a chunk of the body. An error when a line grows longer than the bound; the splitter
  // then refuses everything after.
  Result<void> feed(std::string_view chunk);

  // The next complete line, without its '\n'; nothing when no complete line is held. Lines of
  // whitespace only are skipped. The view is valid until the next feed().
  std::optional<std::string_view> next();

  // The body ended: an error when it ended inside a document (a line with no '\n').
  Result<void> finish() const;

 private:
  std::string buffer_;
  std::size_t start_ = 0;         // where the first line not yet returned begins
  std::size_t scanned_ = 0;       // bytes from start_ known to hold no '\n'
  std::size_t partial_line_ = 0;  // length of the line the buffer ends inside
  std::size_t max_line_;
  bool failed_ = false;
};

}  // namespace portcullis::proto::kubernetes
