// The command phase's server messages: OK, ERR and EOF packets, column definitions, and the
// rows of text (COM_QUERY) and binary (COM_STMT_EXECUTE) result sets. Pure.
// Reference:
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_response_packets.html
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "proto/mysql/capabilities.h"

namespace portcullis::proto::mysql {

struct OkPacket {
  uint64_t affected_rows = 0;
  uint64_t last_insert_id = 0;
  uint16_t status = 0;
  uint16_t warnings = 0;
  std::string info;  // human-readable, may be empty
  // With kSessionTrack and kSessionStateChanged: the session state changes, as sent.
  std::string session_state;
};

struct ErrPacket {
  uint16_t code = 0;
  std::string sql_state = "HY000";
  std::string message;
};

struct EofPacket {
  uint16_t warnings = 0;
  uint16_t status = 0;
};

// `header` 0x00 or, for a result set's end under kDeprecateEof, 0xfe.
Result<OkPacket> decode_ok(std::string_view payload, Capabilities capabilities);
std::string encode_ok(const OkPacket& ok, Capabilities capabilities, uint8_t header = 0x00);
Result<ErrPacket> decode_err(std::string_view payload);
std::string encode_err(const ErrPacket& err);
Result<EofPacket> decode_eof(std::string_view payload);
std::string encode_eof(const EofPacket& eof);

// Whether a packet inside a result set ends its rows: an EOF packet (0xfe, under 9 bytes) or,
// under kDeprecateEof, an OK packet with the 0xfe header (under 2^24-1 bytes). A row whose
// first value is longer than 2^24 also starts with 0xfe, but is longer still.
bool is_result_end(std::string_view payload, Capabilities capabilities);
// The status flags of a result set's end (either form); 0 when it cannot be read.
uint16_t result_end_status(std::string_view payload, Capabilities capabilities);

// Column types (enum_field_types).
enum class FieldType : uint8_t {
  decimal = 0x00,
  tiny = 0x01,
  short_ = 0x02,
  long_ = 0x03,
  float_ = 0x04,
  double_ = 0x05,
  null = 0x06,
  timestamp = 0x07,
  longlong = 0x08,
  int24 = 0x09,
  date = 0x0a,
  time = 0x0b,
  datetime = 0x0c,
  year = 0x0d,
  newdate = 0x0e,
  varchar = 0x0f,
  bit = 0x10,
  timestamp2 = 0x11,
  datetime2 = 0x12,
  time2 = 0x13,
  vector = 0xf2,
  json = 0xf5,
  newdecimal = 0xf6,
  enum_ = 0xf7,
  set = 0xf8,
  tiny_blob = 0xf9,
  medium_blob = 0xfa,
  long_blob = 0xfb,
  blob = 0xfc,
  var_string = 0xfd,
  string = 0xfe,
  geometry = 0xff,
};

// Column flags that matter here.
inline constexpr uint16_t kUnsignedFlag = 0x0020;
inline constexpr uint16_t kBinaryFlag = 0x0080;
// The character set number of binary strings (BLOB, VARBINARY).
inline constexpr uint16_t kBinaryCharset = 63;

struct ColumnDefinition {
  std::string schema;
  std::string table;      // the alias as written
  std::string org_table;  // the table itself
  std::string name;       // the alias as written
  std::string org_name;   // the column itself
  uint16_t charset = 0;
  uint32_t length = 0;
  FieldType type = FieldType::var_string;
  uint16_t flags = 0;
  uint8_t decimals = 0;
};

// Whether a column's values are bytes rather than text (BLOB, VARBINARY, BINARY, BIT): the
// journal keeps them hex-encoded.
bool is_binary_string(const ColumnDefinition& column);

Result<ColumnDefinition> decode_column_definition(std::string_view payload);
std::string encode_column_definition(const ColumnDefinition& column);

// Whether values of a column type can hold text worth scanning: strings, blobs, JSON, enums
// and sets, decimals and integers (a card number stored as a BIGINT is still a card number);
// not dates, times, years, bits, floating-point numbers or geometry.
bool type_can_hold_text(FieldType type);

using RowValues = std::vector<std::optional<std::string_view>>;

// A text result set's row: `columns` length-encoded strings, 0xfb for NULL.
Result<void> decode_text_row(std::string_view payload, std::size_t columns, RowValues& values);
std::string encode_text_row(std::span<const std::optional<std::string>> values);

// A binary result set's row (0x00, a NULL bitmap offset by 2 bits, then each non-NULL value in
// its type's binary form). `values` get each value's bytes as sent (the length prefix of
// strings removed).
Result<void> decode_binary_row(std::string_view payload, std::span<const ColumnDefinition> columns,
                               RowValues& values);
// The value of a binary-protocol integer or decimal as decimal text, for scanning; nullopt
// for types that have no such reading.
std::optional<std::string> binary_value_as_text(std::string_view bytes,
                                                const ColumnDefinition& column);
// Bytes a binary value of `type` takes: its size when fixed, 0 when length-encoded, -1 for a
// temporal value (its size in its first byte), -2 for NULL (no bytes).
int fixed_binary_size(FieldType type);
// Whether a type's binary value is length-encoded bytes that can be rewritten freely.
bool binary_value_is_string(FieldType type);
// A binary row from values in their binary form (strings without their length prefix).
std::string encode_binary_row(std::span<const ColumnDefinition> columns,
                              std::span<const std::optional<std::string>> values);

}  // namespace portcullis::proto::mysql
