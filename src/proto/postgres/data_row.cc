// Reading DataRow values.
#include "proto/postgres/data_row.h"

namespace portcullis::proto::postgres {
namespace {

constexpr uint32_t kNullLength = 0xffffffffu;

}  // namespace

Result<DataRowReader> DataRowReader::open(std::string_view body) {
  if (body.size() < 2) return make_error("malformed DataRow: no column count");
  const auto count =
      static_cast<uint16_t>((static_cast<uint8_t>(body[0]) << 8) | static_cast<uint8_t>(body[1]));
  return DataRowReader(body, count);
}

Result<std::optional<std::string_view>> DataRowReader::next() {
  if (body_.size() - position_ < 4) return make_error("malformed DataRow: truncated length");
  const uint32_t length = read_u32(body_.data() + position_);
  position_ += 4;
  ++read_;
  if (length == kNullLength) return std::optional<std::string_view>();
  if (length > body_.size() - position_) return make_error("malformed DataRow: truncated value");
  const auto value = body_.substr(position_, length);
  position_ += length;
  return std::optional<std::string_view>(value);
}

}  // namespace portcullis::proto::postgres
