// Framing and body parsing for PostgreSQL protocol 3.0 messages.
#include "proto/postgres/decoder.h"

#include <fmt/format.h>

#include <cstring>

namespace portcullis::proto::postgres {
namespace {

// Bounds-checked reads over a message body, in network byte order.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : rest_(body) {}

  bool int16(int16_t& out) {
    if (rest_.size() < 2) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(rest_.data());
    out = static_cast<int16_t>((p[0] << 8) | p[1]);
    rest_.remove_prefix(2);
    return true;
  }
  bool int32(int32_t& out) {
    uint32_t value;
    if (!uint32(value)) return false;
    out = static_cast<int32_t>(value);
    return true;
  }
  bool uint32(uint32_t& out) {
    if (rest_.size() < 4) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(rest_.data());
    out = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    rest_.remove_prefix(4);
    return true;
  }
  bool byte(char& out) {
    if (rest_.empty()) return false;
    out = rest_.front();
    rest_.remove_prefix(1);
    return true;
  }
  // A NUL-terminated string; the view excludes the NUL.
  bool cstring(std::string_view& out) {
    const auto end = rest_.find('\0');
    if (end == std::string_view::npos) return false;
    out = rest_.substr(0, end);
    rest_.remove_prefix(end + 1);
    return true;
  }
  bool bytes(std::size_t n, std::string_view& out) {
    if (rest_.size() < n) return false;
    out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  // A length-prefixed value where -1 means NULL (Bind parameters, FunctionCall arguments).
  bool nullable_value(std::optional<std::string_view>& out) {
    int32_t length;
    if (!int32(length)) return false;
    if (length == -1) {
      out.reset();
      return true;
    }
    if (length < 0) return false;
    std::string_view value;
    if (!bytes(static_cast<std::size_t>(length), value)) return false;
    out = value;
    return true;
  }
  // A count followed by that many int16 format codes.
  bool formats(std::vector<int16_t>& out) {
    int16_t count;
    if (!int16(count) || count < 0) return false;
    // Each format is two bytes: a count larger than what is left is malformed, and checking
    // it first keeps a hostile count from reserving memory.
    if (static_cast<std::size_t>(count) * 2 > rest_.size()) return false;
    out.resize(static_cast<std::size_t>(count));
    for (auto& f : out)
      if (!int16(f)) return false;
    return true;
  }
  bool values(std::vector<std::optional<std::string_view>>& out) {
    int16_t count;
    if (!int16(count) || count < 0) return false;
    if (static_cast<std::size_t>(count) * 4 > rest_.size()) return false;
    out.resize(static_cast<std::size_t>(count));
    for (auto& v : out)
      if (!nullable_value(v)) return false;
    return true;
  }

  bool at_end() const { return rest_.empty(); }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

uint32_t read_be32(const char* data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

Error malformed(std::string_view what) {
  return make_error(fmt::format("malformed {} message", what));
}

}  // namespace

DecodeStatus decode_header(std::string_view input, std::size_t max_body, FrameHeader& header,
                           std::string& error) {
  if (input.size() < kHeaderSize) return DecodeStatus::need_more;
  const uint32_t length = read_be32(input.data() + 1);
  if (length < 4) {
    error = fmt::format("invalid message length {}", length);
    return DecodeStatus::invalid;
  }
  const std::size_t body = length - 4;
  if (body > max_body) {
    error = fmt::format("message of {} bytes exceeds the limit of {} bytes", body, max_body);
    return DecodeStatus::invalid;
  }
  header.type = input[0];
  header.body_size = body;
  return DecodeStatus::ready;
}

DecodeStatus decode_message(std::string_view input, std::size_t max_body, Message& message,
                            std::size_t& consumed, std::string& error) {
  FrameHeader header;
  const auto status = decode_header(input, max_body, header, error);
  if (status != DecodeStatus::ready) return status;
  if (input.size() - kHeaderSize < header.body_size) return DecodeStatus::need_more;
  message.type = header.type;
  message.body = input.substr(kHeaderSize, header.body_size);
  consumed = kHeaderSize + header.body_size;
  return DecodeStatus::ready;
}

DecodeStatus decode_startup_packet(std::string_view input, std::size_t max_size,
                                   StartupPacket& packet, std::size_t& consumed,
                                   std::string& error) {
  if (input.size() < 4) return DecodeStatus::need_more;
  const uint32_t length = read_be32(input.data());
  // The smallest packet is a length and a code (8 bytes), as PostgreSQL checks in
  // ProcessStartupPacket (src/backend/postmaster/postmaster.c).
  if (length < 8 || length > max_size) {
    error = fmt::format("invalid startup packet length {}", length);
    return DecodeStatus::invalid;
  }
  if (input.size() < length) return DecodeStatus::need_more;
  consumed = length;
  const uint32_t code = read_be32(input.data() + 4);
  BodyReader reader(input.substr(8, length - 8));
  switch (code) {
    case kSslRequestCode:
      packet = SslRequest{};
      return DecodeStatus::ready;
    case kGssEncRequestCode:
      packet = GssEncRequest{};
      return DecodeStatus::ready;
    case kCancelRequestCode: {
      CancelRequest cancel;
      if (!reader.int32(cancel.process_id) || !reader.int32(cancel.secret_key)) {
        error = "malformed cancel request";
        return DecodeStatus::invalid;
      }
      packet = cancel;
      return DecodeStatus::ready;
    }
    default:
      break;
  }
  StartupMessage startup;
  startup.protocol_version = code;
  if ((code >> 16) != 3) {
    // Not a 3.x startup: the session answers with its own error, as PostgreSQL does.
    packet = std::move(startup);
    return DecodeStatus::ready;
  }
  // Name/value pairs, ended by an empty name.
  for (;;) {
    std::string_view name;
    if (!reader.cstring(name)) {
      error = "malformed startup packet: parameter list is not terminated";
      return DecodeStatus::invalid;
    }
    if (name.empty()) break;
    std::string_view value;
    if (!reader.cstring(value)) {
      error = fmt::format("malformed startup packet: parameter \"{}\" has no value", name);
      return DecodeStatus::invalid;
    }
    startup.parameters.emplace_back(name, value);
  }
  if (!reader.at_end()) {
    error = "malformed startup packet: bytes after the parameter list";
    return DecodeStatus::invalid;
  }
  packet = std::move(startup);
  return DecodeStatus::ready;
}

Result<Query> parse_query(std::string_view body) {
  BodyReader reader(body);
  Query query;
  if (!reader.cstring(query.sql) || !reader.at_end()) return malformed("Query");
  return query;
}

Result<Parse> parse_parse(std::string_view body) {
  BodyReader reader(body);
  Parse parse;
  int16_t count;
  if (!reader.cstring(parse.statement) || !reader.cstring(parse.query) || !reader.int16(count) ||
      count < 0 || static_cast<std::size_t>(count) * 4 > reader.rest().size())
    return malformed("Parse");
  parse.parameter_types.resize(static_cast<std::size_t>(count));
  for (auto& oid : parse.parameter_types)
    if (!reader.uint32(oid)) return malformed("Parse");
  if (!reader.at_end()) return malformed("Parse");
  return parse;
}

Result<Bind> parse_bind(std::string_view body) {
  BodyReader reader(body);
  Bind bind;
  if (!reader.cstring(bind.portal) || !reader.cstring(bind.statement) ||
      !reader.formats(bind.parameter_formats) || !reader.values(bind.parameters) ||
      !reader.formats(bind.result_formats) || !reader.at_end())
    return malformed("Bind");
  // Format codes: none (all text), one (applies to all) or one per parameter.
  const auto formats = bind.parameter_formats.size();
  if (formats > 1 && formats != bind.parameters.size()) return malformed("Bind");
  return bind;
}

Result<Execute> parse_execute(std::string_view body) {
  BodyReader reader(body);
  Execute execute;
  if (!reader.cstring(execute.portal) || !reader.int32(execute.max_rows) || !reader.at_end())
    return malformed("Execute");
  return execute;
}

Result<DescribeOrClose> parse_describe_or_close(std::string_view body) {
  BodyReader reader(body);
  DescribeOrClose message;
  if (!reader.byte(message.target) || (message.target != 'S' && message.target != 'P') ||
      !reader.cstring(message.name) || !reader.at_end())
    return malformed("Describe/Close");
  return message;
}

Result<FunctionCall> parse_function_call(std::string_view body) {
  BodyReader reader(body);
  FunctionCall call;
  if (!reader.uint32(call.function_oid) || !reader.formats(call.argument_formats) ||
      !reader.values(call.arguments) || !reader.int16(call.result_format) || !reader.at_end())
    return malformed("FunctionCall");
  // As for Bind: no format code, one for all, or one per argument.
  const auto formats = call.argument_formats.size();
  if (formats > 1 && formats != call.arguments.size()) return malformed("FunctionCall");
  return call;
}

Result<std::string_view> parse_password(std::string_view body) {
  BodyReader reader(body);
  std::string_view password;
  if (!reader.cstring(password) || !reader.at_end()) return malformed("PasswordMessage");
  return password;
}

Result<Authentication> parse_authentication(std::string_view body) {
  BodyReader reader(body);
  int32_t code;
  if (!reader.int32(code)) return malformed("Authentication");
  Authentication auth;
  auth.code = static_cast<AuthCode>(code);
  auth.data = reader.rest();
  return auth;
}

Result<BackendKeyData> parse_backend_key_data(std::string_view body) {
  BodyReader reader(body);
  BackendKeyData key;
  if (!reader.int32(key.process_id) || !reader.int32(key.secret_key) || !reader.at_end())
    return malformed("BackendKeyData");
  return key;
}

Result<ParameterStatus> parse_parameter_status(std::string_view body) {
  BodyReader reader(body);
  ParameterStatus status;
  if (!reader.cstring(status.name) || !reader.cstring(status.value) || !reader.at_end())
    return malformed("ParameterStatus");
  return status;
}

Result<ReadyForQuery> parse_ready_for_query(std::string_view body) {
  BodyReader reader(body);
  ReadyForQuery ready;
  if (!reader.byte(ready.transaction_status) || !reader.at_end()) return malformed("ReadyForQuery");
  return ready;
}

Result<std::vector<FieldDescription>> parse_row_description(std::string_view body) {
  BodyReader reader(body);
  int16_t count;
  // Each field takes at least 19 bytes (an empty name and six fixed-size values).
  if (!reader.int16(count) || count < 0 ||
      static_cast<std::size_t>(count) * 19 > reader.rest().size())
    return malformed("RowDescription");
  std::vector<FieldDescription> fields(static_cast<std::size_t>(count));
  for (auto& field : fields) {
    int32_t table, type;
    if (!reader.cstring(field.name) || !reader.int32(table) || !reader.int16(field.column) ||
        !reader.int32(type) || !reader.int16(field.type_size) ||
        !reader.int32(field.type_modifier) || !reader.int16(field.format))
      return malformed("RowDescription");
    field.table_oid = static_cast<uint32_t>(table);
    field.type_oid = static_cast<uint32_t>(type);
  }
  if (!reader.at_end()) return malformed("RowDescription");
  return fields;
}

Result<ErrorFields> parse_error_fields(std::string_view body) {
  BodyReader reader(body);
  ErrorFields fields;
  for (;;) {
    char code;
    if (!reader.byte(code)) return malformed("ErrorResponse");
    if (code == '\0') break;
    std::string_view value;
    if (!reader.cstring(value)) return malformed("ErrorResponse");
    fields.fields.emplace_back(code, value);
  }
  if (!reader.at_end()) return malformed("ErrorResponse");
  return fields;
}

}  // namespace portcullis::proto::postgres
