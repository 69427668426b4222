// PostgreSQL v3 wire protocol: message type codes, special request codes and the decoded
// forms of the messages the gateway inspects. Decoded messages are views into the buffer they
// were read from; they live no longer than it.
// Reference: https://www.postgresql.org/docs/15/protocol-message-formats.html
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace portcullis::proto::postgres {

// Protocol 3.0 (PG_PROTOCOL(3,0), src/include/libpq/pqcomm.h).
inline constexpr uint32_t kProtocolVersion3 = 196608;
// Special "versions" of a startup packet (src/include/libpq/pqcomm.h).
inline constexpr uint32_t kCancelRequestCode = 80877102;
inline constexpr uint32_t kSslRequestCode = 80877103;
inline constexpr uint32_t kGssEncRequestCode = 80877104;

// A type byte and a 4-byte length that counts itself.
inline constexpr std::size_t kHeaderSize = 5;

// Frontend (client → server) message types.
namespace frontend {
inline constexpr char kBind = 'B';
inline constexpr char kClose = 'C';
inline constexpr char kCopyData = 'd';
inline constexpr char kCopyDone = 'c';
inline constexpr char kCopyFail = 'f';
inline constexpr char kDescribe = 'D';
inline constexpr char kExecute = 'E';
inline constexpr char kFlush = 'H';
inline constexpr char kFunctionCall = 'F';
inline constexpr char kParse = 'P';
inline constexpr char kPassword = 'p';  // also SASLInitialResponse, SASLResponse, GSSResponse
inline constexpr char kQuery = 'Q';
inline constexpr char kSync = 'S';
inline constexpr char kTerminate = 'X';
}  // namespace frontend

// Backend (server → client) message types.
namespace backend {
inline constexpr char kAuthentication = 'R';
inline constexpr char kBackendKeyData = 'K';
inline constexpr char kBindComplete = '2';
inline constexpr char kCloseComplete = '3';
inline constexpr char kCommandComplete = 'C';
inline constexpr char kCopyBothResponse = 'W';
inline constexpr char kCopyData = 'd';
inline constexpr char kCopyDone = 'c';
inline constexpr char kCopyInResponse = 'G';
inline constexpr char kCopyOutResponse = 'H';
inline constexpr char kDataRow = 'D';
inline constexpr char kEmptyQueryResponse = 'I';
inline constexpr char kErrorResponse = 'E';
inline constexpr char kFunctionCallResponse = 'V';
inline constexpr char kNegotiateProtocolVersion = 'v';
inline constexpr char kNoData = 'n';
inline constexpr char kNoticeResponse = 'N';
inline constexpr char kNotificationResponse = 'A';
inline constexpr char kParameterDescription = 't';
inline constexpr char kParameterStatus = 'S';
inline constexpr char kParseComplete = '1';
inline constexpr char kPortalSuspended = 's';
inline constexpr char kReadyForQuery = 'Z';
inline constexpr char kRowDescription = 'T';
}  // namespace backend

// Authentication request codes (AUTH_REQ_*, src/include/libpq/pqcomm.h).
enum class AuthCode : int32_t {
  ok = 0,
  kerberos_v5 = 2,
  cleartext_password = 3,
  md5_password = 5,
  gss = 7,
  gss_continue = 8,
  sspi = 9,
  sasl = 10,
  sasl_continue = 11,
  sasl_final = 12,
};

// One framed message: its type and body (the bytes after the length word).
struct Message {
  char type = 0;
  std::string_view body;
};

// --- The packet a connection starts with (it has no type byte) ---

struct SslRequest {};
struct GssEncRequest {};
struct CancelRequest {
  int32_t process_id = 0;
  int32_t secret_key = 0;
};
struct StartupMessage {
  uint32_t protocol_version = 0;
  std::vector<std::pair<std::string_view, std::string_view>> parameters;

  std::optional<std::string_view> parameter(std::string_view name) const {
    for (const auto& [key, value] : parameters)
      if (key == name) return value;
    return std::nullopt;
  }
};

// --- Frontend messages the gateway inspects ---

struct Query {
  std::string_view sql;
};

struct Parse {
  std::string_view statement;  // "" is the unnamed statement
  std::string_view query;
  std::vector<uint32_t> parameter_types;
};

struct Bind {
  std::string_view portal;
  std::string_view statement;
  std::vector<int16_t> parameter_formats;                   // 0 text, 1 binary
  std::vector<std::optional<std::string_view>> parameters;  // nullopt is SQL NULL
  std::vector<int16_t> result_formats;
};

struct Execute {
  std::string_view portal;
  int32_t max_rows = 0;
};

// Describe and Close share a shape: 'S' statement or 'P' portal, and a name.
struct DescribeOrClose {
  char target = 'S';
  std::string_view name;
};

struct FunctionCall {
  uint32_t function_oid = 0;
  std::vector<int16_t> argument_formats;
  std::vector<std::optional<std::string_view>> arguments;
  int16_t result_format = 0;
};

// --- Backend messages the gateway inspects ---

struct Authentication {
  AuthCode code = AuthCode::ok;
  std::string_view data;  // salt, SASL mechanism list or SASL data, by code
};

struct BackendKeyData {
  int32_t process_id = 0;
  int32_t secret_key = 0;
};

struct ParameterStatus {
  std::string_view name;
  std::string_view value;
};

// One column of a RowDescription.
struct FieldDescription {
  std::string_view name;
  uint32_t table_oid = 0;  // 0 when the column is not a table column
  int16_t column = 0;
  uint32_t type_oid = 0;
  int16_t type_size = 0;
  int32_t type_modifier = 0;
  int16_t format = 0;  // 0 text, 1 binary
};

struct ReadyForQuery {
  char transaction_status = 'I';  // 'I' idle, 'T' in a transaction, 'E' failed transaction
};

// ErrorResponse and NoticeResponse: fields by one-letter code ('S', 'V', 'C', 'M', 'D', ...).
struct ErrorFields {
  std::vector<std::pair<char, std::string_view>> fields;

  std::optional<std::string_view> field(char code) const {
    for (const auto& [key, value] : fields)
      if (key == code) return value;
    return std::nullopt;
  }
};

}  // namespace portcullis::proto::postgres
