// The command phase's server messages.
#include "proto/mysql/response.h"

#include <fmt/format.h>

#include "proto/mysql/handshake.h"
#include "proto/mysql/packet.h"
#include "proto/mysql/statement_packets.h"

namespace portcullis::proto::mysql {
namespace {

// EOF packets are 5 bytes (header, warnings, status); anything under 9 starting with 0xfe is
// one, as the client libraries decide.
constexpr std::size_t kEofMaxSize = 9;
// The NULL bitmap of a binary row starts 2 bits in.
constexpr std::size_t kBinaryRowBitmapOffset = 2;

}  // namespace

int fixed_binary_size(FieldType type) {
  switch (type) {
    case FieldType::tiny:
      return 1;
    case FieldType::short_:
    case FieldType::year:
      return 2;
    case FieldType::long_:
    case FieldType::int24:
    case FieldType::float_:
      return 4;
    case FieldType::longlong:
    case FieldType::double_:
      return 8;
    case FieldType::date:
    case FieldType::datetime:
    case FieldType::timestamp:
    case FieldType::time:
    case FieldType::newdate:
    case FieldType::timestamp2:
    case FieldType::datetime2:
    case FieldType::time2:
      return -1;
    case FieldType::null:
      return -2;
    default:
      return 0;
  }
}

Result<OkPacket> decode_ok(std::string_view payload, Capabilities capabilities) {
  PacketReader r(payload);
  const uint8_t header = r.u8();
  if (header != kOkHeader && header != kEofHeader) return Error{"malformed OK packet"};
  OkPacket ok;
  ok.affected_rows = r.lenenc_int();
  ok.last_insert_id = r.lenenc_int();
  ok.status = r.u16();
  ok.warnings = r.u16();
  if (!r.ok()) return Error{"malformed OK packet"};
  if (r.at_end()) return ok;
  if (capabilities & capability::kSessionTrack) {
    ok.info = std::string(r.lenenc_string());
    if (ok.status & status::kSessionStateChanged) ok.session_state = std::string(r.lenenc_string());
  } else {
    ok.info = std::string(r.rest());
  }
  if (!r.ok()) return Error{"malformed OK packet"};
  return ok;
}

std::string encode_ok(const OkPacket& ok, Capabilities capabilities, uint8_t header) {
  std::string out;
  PacketWriter w(out);
  w.u8(header).lenenc_int(ok.affected_rows).lenenc_int(ok.last_insert_id);
  w.u16(ok.status).u16(ok.warnings);
  if (capabilities & capability::kSessionTrack) {
    if (!ok.info.empty() || (ok.status & status::kSessionStateChanged)) w.lenenc_string(ok.info);
    if (ok.status & status::kSessionStateChanged) w.lenenc_string(ok.session_state);
  } else {
    w.bytes(ok.info);
  }
  return out;
}

Result<ErrPacket> decode_err(std::string_view payload) {
  PacketReader r(payload);
  if (r.u8() != kErrHeader) return Error{"malformed ERR packet"};
  ErrPacket err;
  err.code = r.u16();
  if (r.peek() == '#') {
    r.skip(1);
    err.sql_state = std::string(r.bytes(5));
  }
  err.message = std::string(r.rest());
  if (!r.ok()) return Error{"malformed ERR packet"};
  return err;
}

std::string encode_err(const ErrPacket& err) {
  std::string out;
  PacketWriter w(out);
  std::string state = err.sql_state;
  state.resize(5, '0');
  w.u8(kErrHeader).u16(err.code).u8('#').bytes(state).bytes(err.message);
  return out;
}

Result<EofPacket> decode_eof(std::string_view payload) {
  PacketReader r(payload);
  if (r.u8() != kEofHeader) return Error{"malformed EOF packet"};
  EofPacket eof;
  eof.warnings = r.u16();
  eof.status = r.u16();
  if (!r.ok()) return Error{"malformed EOF packet"};
  return eof;
}

std::string encode_eof(const EofPacket& eof) {
  std::string out;
  PacketWriter(out).u8(kEofHeader).u16(eof.warnings).u16(eof.status);
  return out;
}

bool is_result_end(std::string_view payload, Capabilities capabilities) {
  if (payload.empty() || static_cast<uint8_t>(payload[0]) != kEofHeader) return false;
  if (capabilities & capability::kDeprecateEof) return payload.size() < kMaxPacketPayload;
  return payload.size() < kEofMaxSize;
}

uint16_t result_end_status(std::string_view payload, Capabilities capabilities) {
  if (capabilities & capability::kDeprecateEof) {
    auto ok = decode_ok(payload, capabilities);
    return ok ? ok->status : 0;
  }
  auto eof = decode_eof(payload);
  return eof ? eof->status : 0;
}

Result<ColumnDefinition> decode_column_definition(std::string_view payload) {
  PacketReader r(payload);
  ColumnDefinition c;
  r.lenenc_string();  // catalog, always "def"
  c.schema = std::string(r.lenenc_string());
  c.table = std::string(r.lenenc_string());
  c.org_table = std::string(r.lenenc_string());
  c.name = std::string(r.lenenc_string());
  c.org_name = std::string(r.lenenc_string());
  const uint64_t fixed = r.lenenc_int();  // 0x0c
  if (fixed < 10) return Error{"malformed column definition"};
  c.charset = r.u16();
  c.length = r.u32();
  c.type = static_cast<FieldType>(r.u8());
  c.flags = r.u16();
  c.decimals = r.u8();
  if (!r.ok()) return Error{"malformed column definition"};
  return c;
}

std::string encode_column_definition(const ColumnDefinition& c) {
  std::string out;
  PacketWriter w(out);
  w.lenenc_string("def").lenenc_string(c.schema).lenenc_string(c.table);
  w.lenenc_string(c.org_table).lenenc_string(c.name).lenenc_string(c.org_name);
  w.lenenc_int(0x0c).u16(c.charset).u32(c.length).u8(static_cast<uint8_t>(c.type));
  w.u16(c.flags).u8(c.decimals).zeros(2);
  return out;
}

bool is_binary_string(const ColumnDefinition& column) {
  if (column.charset != kBinaryCharset) return false;
  switch (column.type) {
    case FieldType::tiny_blob:
    case FieldType::medium_blob:
    case FieldType::long_blob:
    case FieldType::blob:
    case FieldType::var_string:
    case FieldType::string:
    case FieldType::varchar:
    case FieldType::bit:
    case FieldType::geometry:
      return true;
    default:
      return false;
  }
}

bool type_can_hold_text(FieldType type) {
  switch (type) {
    case FieldType::date:
    case FieldType::time:
    case FieldType::datetime:
    case FieldType::timestamp:
    case FieldType::newdate:
    case FieldType::timestamp2:
    case FieldType::datetime2:
    case FieldType::time2:
    case FieldType::year:
    case FieldType::bit:
    case FieldType::float_:
    case FieldType::double_:
    case FieldType::null:
    case FieldType::geometry:
    case FieldType::vector:
      return false;
    default:
      return true;
  }
}

Result<void> decode_text_row(std::string_view payload, std::size_t columns, RowValues& values) {
  PacketReader r(payload);
  values.clear();
  for (std::size_t i = 0; i < columns; ++i) values.push_back(r.lenenc_string_or_null());
  if (!r.ok() || !r.at_end()) return Error{fmt::format("malformed row: not {} values", columns)};
  return {};
}

std::string encode_text_row(std::span<const std::optional<std::string>> values) {
  std::string out;
  PacketWriter w(out);
  for (const auto& v : values) {
    if (v)
      w.lenenc_string(*v);
    else
      w.null_value();
  }
  return out;
}

Result<void> decode_binary_row(std::string_view payload, std::span<const ColumnDefinition> columns,
                               RowValues& values) {
  PacketReader r(payload);
  values.clear();
  if (r.u8() != kOkHeader) return Error{"malformed binary row"};
  const std::size_t bitmap_size = (columns.size() + 7 + kBinaryRowBitmapOffset) / 8;
  const auto bitmap = r.bytes(bitmap_size);
  for (std::size_t i = 0; i < columns.size() && r.ok(); ++i) {
    const std::size_t bit = i + kBinaryRowBitmapOffset;
    if (static_cast<uint8_t>(bitmap[bit / 8]) & (1u << (bit % 8))) {
      values.emplace_back(std::nullopt);
      continue;
    }
    const int size = fixed_binary_size(columns[i].type);
    if (size > 0) {
      values.emplace_back(r.bytes(static_cast<std::size_t>(size)));
    } else if (size == -1) {
      const uint8_t length = r.peek();
      values.emplace_back(r.bytes(1u + length));
    } else if (size == -2) {
      values.emplace_back(std::nullopt);
    } else {
      values.emplace_back(r.lenenc_string());
    }
  }
  if (!r.ok() || !r.at_end()) return Error{"malformed binary row"};
  return {};
}

bool binary_value_is_string(FieldType type) {
  return fixed_binary_size(type) == 0;
}

std::optional<std::string> binary_value_as_text(std::string_view bytes,
                                                const ColumnDefinition& column) {
  if (binary_value_is_string(column.type)) return std::string(bytes);
  switch (column.type) {
    case FieldType::tiny:
    case FieldType::short_:
    case FieldType::year:
    case FieldType::long_:
    case FieldType::int24:
    case FieldType::longlong:
      return binary_param_as_text(
          bytes, {.type = column.type, .is_unsigned = (column.flags & kUnsignedFlag) != 0});
    default:
      return std::nullopt;
  }
}

std::string encode_binary_row(std::span<const ColumnDefinition> columns,
                              std::span<const std::optional<std::string>> values) {
  std::string out;
  PacketWriter w(out);
  w.u8(kOkHeader);
  std::string bitmap((columns.size() + 7 + kBinaryRowBitmapOffset) / 8, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i]) continue;
    const std::size_t bit = i + kBinaryRowBitmapOffset;
    bitmap[bit / 8] = static_cast<char>(bitmap[bit / 8] | (1u << (bit % 8)));
  }
  w.bytes(bitmap);
  for (std::size_t i = 0; i < values.size() && i < columns.size(); ++i) {
    if (!values[i]) continue;
    if (binary_value_is_string(columns[i].type))
      w.lenenc_string(*values[i]);
    else
      w.bytes(*values[i]);
  }
  return out;
}

}  // namespace portcullis::proto::mysql
