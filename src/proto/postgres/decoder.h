// The pure decoding half of the PostgreSQL codec: frames messages out of a byte stream and
// reads the bodies the gateway inspects. No I/O, no policy, no exceptions: progress and
// failure are values, so the session's event loop never unwinds through it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "proto/postgres/message.h"

namespace portcullis::proto::postgres {

enum class DecodeStatus {
  need_more,  // the buffer holds less than a header (or than the whole packet, for startup)
  ready,      // a header (or a whole packet) was decoded
  invalid,    // the stream is not PostgreSQL protocol; `error` says why; close the connection
};

// The header of a typed message: what kind it is and how many body bytes follow.
struct FrameHeader {
  char type = 0;
  std::size_t body_size = 0;
};

// Reads a message header from the start of `input`. `max_body` bounds the declared size
// (a message larger than that is `invalid`, not buffered).
DecodeStatus decode_header(std::string_view input, std::size_t max_body, FrameHeader& header,
                           std::string& error);

// Frames one whole message from the start of `input`: `ready` only when all of its body is
// in the buffer. `consumed` is then kHeaderSize + body size.
DecodeStatus decode_message(std::string_view input, std::size_t max_body, Message& message,
                            std::size_t& consumed, std::string& error);

// The first packet of a connection: a length word then a request code or protocol version.
using StartupPacket = std::variant<SslRequest, GssEncRequest, CancelRequest, StartupMessage>;

// Decodes a whole startup packet from the start of `input` (need_more until it is complete).
// `max_size` is the limit on the whole packet, as PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
DecodeStatus decode_startup_packet(std::string_view input, std::size_t max_size,
                                   StartupPacket& packet, std::size_t& consumed,
                                   std::string& error);

// Body readers. Each returns an Error naming what was malformed.
Result<Query> parse_query(std::string_view body);
Result<Parse> parse_parse(std::string_view body);
Result<Bind> parse_bind(std::string_view body);
Result<Execute> parse_execute(std::string_view body);
Result<DescribeOrClose> parse_describe_or_close(std::string_view body);
Result<FunctionCall> parse_function_call(std::string_view body);
// PasswordMessage: a NUL-terminated string (the cleartext password, here the token).
Result<std::string_view> parse_password(std::string_view body);

Result<Authentication> parse_authentication(std::string_view body);
Result<BackendKeyData> parse_backend_key_data(std::string_view body);
Result<ParameterStatus> parse_parameter_status(std::string_view body);
Result<ReadyForQuery> parse_ready_for_query(std::string_view body);
Result<std::vector<FieldDescription>> parse_row_description(std::string_view body);
Result<ErrorFields> parse_error_fields(std::string_view body);  // ErrorResponse, NoticeResponse

}  // namespace portcullis::proto::postgres
