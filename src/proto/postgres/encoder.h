// The pure encoding half of the PostgreSQL codec: builds the messages the gateway itself
// sends (its own errors, the client-side handshake, the backend-side startup). Bytes that
// pass through unchanged are never re-encoded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/postgres/message.h"

namespace portcullis::proto::postgres {

// Appends one typed message to a buffer: begin(), the fields, then finish() patches the
// length word. Several messages can be appended to one buffer and written in one call.
class MessageWriter {
 public:
  explicit MessageWriter(std::string& out) : out_(out) {}

  MessageWriter& begin(char type);
  MessageWriter& begin_untyped();  // startup-phase packets have no type byte
  MessageWriter& int16(int16_t value);
  MessageWriter& int32(int32_t value);
  MessageWriter& byte(char value);
  MessageWriter& cstring(std::string_view value);  // the value and a NUL
  MessageWriter& bytes(std::string_view value);
  void finish();

 private:
  std::string& out_;
  std::size_t start_ = 0;  // offset of the length word
};

// ErrorResponse / NoticeResponse severities (non-localised 'V' field).
enum class Severity { error, fatal, notice, warning };

struct ErrorMessage {
  Severity severity = Severity::error;
  std::string_view sqlstate;  // five characters, e.g. "42501"
  std::string_view message;
  std::string_view detail;  // optional
  std::string_view hint;    // optional
};

void append_error_response(std::string& out, const ErrorMessage& error);
void append_notice_response(std::string& out, const ErrorMessage& notice);
void append_authentication(std::string& out, AuthCode code, std::string_view data = {});
void append_parameter_status(std::string& out, std::string_view name, std::string_view value);
void append_backend_key_data(std::string& out, BackendKeyData key);
void append_ready_for_query(std::string& out, char transaction_status);

void append_startup_message(std::string& out,
                            const std::vector<std::pair<std::string, std::string>>& parameters);
void append_ssl_request(std::string& out);
void append_cancel_request(std::string& out, CancelRequest request);
void append_password_message(std::string& out, std::string_view password);
void append_sasl_initial_response(std::string& out, std::string_view mechanism,
                                  std::string_view data);
void append_sasl_response(std::string& out, std::string_view data);
void append_terminate(std::string& out);
// Describe ('S' a prepared statement, 'P' a portal): the gateway sends its own before an
// Execute whose result the client did not describe, so that every result it masks has a
// description of its own.
void append_describe(std::string& out, char target, std::string_view name);

// The response to an md5 authentication request: "md5" + md5hex(md5hex(password + user) + salt)
// (src/common/md5_common.c, pg_md5_encrypt).
std::string md5_password_response(std::string_view user, std::string_view password,
                                  std::string_view salt);

}  // namespace portcullis::proto::postgres
