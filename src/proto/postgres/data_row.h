// DataRowReader: the one reader of a DataRow body (Int16 count, then for each value an Int32
// length, -1 for NULL, and the bytes), shared by result masking and the journal. Pure.
// Reference: https://www.postgresql.org/docs/15/protocol-message-formats.html
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace portcullis::proto::postgres {

// The big-endian Int32 at `p`, as the wire writes lengths (a DataRow's and a binary value's).
inline uint32_t read_u32(const char* p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}

class DataRowReader {
 public:
  // An error when the body is too short to hold its column count.
  static Result<DataRowReader> open(std::string_view body);

  uint16_t count() const { return count_; }
  bool done() const { return read_ == count_; }
  // Where the next value's length field starts in the body (after the last: the end of the
  // values).
  std::size_t position() const { return position_; }
  // The next value: nullopt for NULL; an error when the body ends before it does.
  Result<std::optional<std::string_view>> next();

 private:
  DataRowReader(std::string_view body, uint16_t count) : body_(body), count_(count) {}

  std::string_view body_;
  uint16_t count_ = 0;
  uint16_t read_ = 0;
  std::size_t position_ = 2;
};

}  // namespace portcullis::proto::postgres
