// The prepared-statement packets.
#include "proto/mysql/statement_packets.h"

#include <fmt/format.h>

#include <cstring>

#include "proto/mysql/handshake.h"
#include "proto/mysql/packet.h"

namespace portcullis::proto::mysql {
namespace {

std::string temporal_text(std::string_view bytes, FieldType type) {
  PacketReader r(bytes);
  const uint8_t length = r.u8();
  if (type == FieldType::time || type == FieldType::time2) {
    if (length == 0) return "00:00:00";
    const bool negative = r.u8() != 0;
    const uint32_t days = r.u32();
    const uint8_t h = r.u8(), m = r.u8(), s = r.u8();
    const uint32_t micro = length >= 12 ? r.u32() : 0;
    std::string out = fmt::format("{}{:02}:{:02}:{:02}", negative ? "-" : "", days * 24 + h, m, s);
    if (micro) out += fmt::format(".{:06}", micro);
    return out;
  }
  if (length == 0) return "0000-00-00 00:00:00";
  const uint16_t year = r.u16();
  const uint8_t month = r.u8(), day = r.u8();
  std::string out = fmt::format("{:04}-{:02}-{:02}", year, month, day);
  if (length >= 7) {
    const uint8_t h = r.u8(), m = r.u8(), s = r.u8();
    out += fmt::format(" {:02}:{:02}:{:02}", h, m, s);
    if (length >= 11) out += fmt::format(".{:06}", r.u32());
  }
  return out;
}

}  // namespace

Result<PrepareOk> decode_prepare_ok(std::string_view payload) {
  PacketReader r(payload);
  if (r.u8() != kOkHeader) return Error{"malformed COM_STMT_PREPARE answer"};
  PrepareOk ok;
  ok.statement_id = r.u32();
  ok.columns = r.u16();
  ok.params = r.u16();
  r.skip(1);
  if (!r.at_end()) ok.warnings = r.u16();
  if (!r.ok()) return Error{"malformed COM_STMT_PREPARE answer"};
  return ok;
}

Result<uint32_t> statement_id_of(std::string_view payload) {
  PacketReader r(payload);
  r.skip(1);
  const uint32_t id = r.u32();
  if (!r.ok()) return Error{"malformed statement packet: no statement id"};
  return id;
}

Result<ExecuteRequest> decode_execute(std::string_view payload, std::size_t param_count,
                                      const std::vector<ParamType>& previous_types,
                                      const std::set<uint16_t>& long_data_params) {
  PacketReader r(payload);
  r.skip(1);
  ExecuteRequest e;
  e.statement_id = r.u32();
  e.flags = r.u8();
  r.u32();  // iteration count, always 1
  if (!r.ok()) return Error{"malformed COM_STMT_EXECUTE"};
  if (param_count == 0) return e;
  const auto bitmap = r.bytes((param_count + 7) / 8);
  const uint8_t new_types = r.u8();
  if (!r.ok()) return Error{"malformed COM_STMT_EXECUTE"};
  if (new_types) {
    for (std::size_t i = 0; i < param_count; ++i) {
      const uint8_t type = r.u8();
      const uint8_t flags = r.u8();
      e.types.push_back({.type = static_cast<FieldType>(type), .is_unsigned = (flags & 0x80) != 0});
    }
  } else {
    if (previous_types.size() != param_count)
      return Error{"COM_STMT_EXECUTE without parameter types, and none were sent before"};
    e.types = previous_types;
  }
  for (std::size_t i = 0; i < param_count && r.ok(); ++i) {
    if (static_cast<uint8_t>(bitmap[i / 8]) & (1u << (i % 8))) {
      e.values.emplace_back(std::nullopt);
      continue;
    }
    if (long_data_params.contains(static_cast<uint16_t>(i))) {
      e.values.emplace_back(std::string());
      continue;
    }
    const int size = fixed_binary_size(e.types[i].type);
    if (size > 0) {
      e.values.emplace_back(
          binary_param_as_text(r.bytes(static_cast<std::size_t>(size)), e.types[i]));
    } else if (size == -1) {
      const uint8_t length = r.peek();
      e.values.emplace_back(binary_param_as_text(r.bytes(1u + length), e.types[i]));
    } else if (size == -2) {
      e.values.emplace_back(std::nullopt);
    } else {
      e.values.emplace_back(std::string(r.lenenc_string()));
    }
  }
  if (!r.ok()) return Error{"malformed COM_STMT_EXECUTE: the values do not match their types"};
  return e;
}

Result<LongData> decode_long_data(std::string_view payload) {
  PacketReader r(payload);
  r.skip(1);
  LongData d;
  d.statement_id = r.u32();
  d.param = r.u16();
  d.data = r.rest();
  if (!r.ok()) return Error{"malformed COM_STMT_SEND_LONG_DATA"};
  return d;
}

std::string binary_param_as_text(std::string_view bytes, ParamType type) {
  PacketReader r(bytes);
  const bool u = type.is_unsigned;
  switch (type.type) {
    case FieldType::tiny: {
      const uint8_t v = r.u8();
      return u ? fmt::format("{}", v) : fmt::format("{}", static_cast<int8_t>(v));
    }
    case FieldType::short_:
    case FieldType::year: {
      const uint16_t v = r.u16();
      return u ? fmt::format("{}", v) : fmt::format("{}", static_cast<int16_t>(v));
    }
    case FieldType::long_:
    case FieldType::int24: {
      const uint32_t v = r.u32();
      return u ? fmt::format("{}", v) : fmt::format("{}", static_cast<int32_t>(v));
    }
    case FieldType::longlong: {
      const uint64_t v = r.u64();
      return u ? fmt::format("{}", v) : fmt::format("{}", static_cast<int64_t>(v));
    }
    case FieldType::float_: {
      const uint32_t bits = r.u32();
      float f;
      std::memcpy(&f, &bits, sizeof f);
      return fmt::format("{}", f);
    }
    case FieldType::double_: {
      const uint64_t bits = r.u64();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return fmt::format("{}", d);
    }
    case FieldType::date:
    case FieldType::datetime:
    case FieldType::timestamp:
    case FieldType::time:
    case FieldType::newdate:
    case FieldType::timestamp2:
    case FieldType::datetime2:
    case FieldType::time2:
      return temporal_text(bytes, type.type);
    default:
      return std::string(bytes);
  }
}

}  // namespace portcullis::proto::mysql
