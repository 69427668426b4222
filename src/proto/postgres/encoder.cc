// Message building for the messages the gateway originates.
#include "proto/postgres/encoder.h"

#include <openssl/evp.h>

#include <cassert>

namespace portcullis::proto::postgres {
namespace {

void put_be32(std::string& out, std::size_t at, uint32_t value) {
  out[at] = static_cast<char>(value >> 24);
  out[at + 1] = static_cast<char>(value >> 16);
  out[at + 2] = static_cast<char>(value >> 8);
  out[at + 3] = static_cast<char>(value);
}

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::error:
      return "ERROR";
    case Severity::fatal:
      return "FATAL";
    case Severity::notice:
      return "NOTICE";
    case Severity::warning:
      return "WARNING";
  }
  return "ERROR";
}

void append_error_fields(std::string& out, char type, const ErrorMessage& error) {
  const auto severity = severity_name(error.severity);
  MessageWriter writer(out);
  writer.begin(type);
  writer.byte('S').cstring(severity);
  writer.byte('V').cstring(severity);
  writer.byte('C').cstring(error.sqlstate);
  writer.byte('M').cstring(error.message);
  if (!error.detail.empty()) writer.byte('D').cstring(error.detail);
  if (!error.hint.empty()) writer.byte('H').cstring(error.hint);
  writer.byte('\0');
  writer.finish();
}

std::string md5_hex(std::string_view input) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), digest, &size, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

}  // namespace

MessageWriter& MessageWriter::begin(char type) {
  out_.push_back(type);
  return begin_untyped();
}

MessageWriter& MessageWriter::begin_untyped() {
  start_ = out_.size();
  out_.append(4, '\0');
  return *this;
}

MessageWriter& MessageWriter::int16(int16_t value) {
  out_.push_back(static_cast<char>(static_cast<uint16_t>(value) >> 8));
  out_.push_back(static_cast<char>(value));
  return *this;
}

MessageWriter& MessageWriter::int32(int32_t value) {
  const auto at = out_.size();
  out_.append(4, '\0');
  put_be32(out_, at, static_cast<uint32_t>(value));
  return *this;
}

MessageWriter& MessageWriter::byte(char value) {
  out_.push_back(value);
  return *this;
}

MessageWriter& MessageWriter::cstring(std::string_view value) {
  out_.append(value);
  out_.push_back('\0');
  return *this;
}

MessageWriter& MessageWriter::bytes(std::string_view value) {
  out_.append(value);
  return *this;
}

void MessageWriter::finish() {
  assert(out_.size() >= start_ + 4);
  put_be32(out_, start_, static_cast<uint32_t>(out_.size() - start_));
}

void append_error_response(std::string& out, const ErrorMessage& error) {
  append_error_fields(out, backend::kErrorResponse, error);
}

void append_notice_response(std::string& out, const ErrorMessage& notice) {
  append_error_fields(out, backend::kNoticeResponse, notice);
}

void append_authentication(std::string& out, AuthCode code, std::string_view data) {
  MessageWriter(out)
      .begin(backend::kAuthentication)
      .int32(static_cast<int32_t>(code))
      .bytes(data)
      .finish();
}

void append_parameter_status(std::string& out, std::string_view name, std::string_view value) {
  MessageWriter(out).begin(backend::kParameterStatus).cstring(name).cstring(value).finish();
}

void append_backend_key_data(std::string& out, BackendKeyData key) {
  MessageWriter(out)
      .begin(backend::kBackendKeyData)
      .int32(key.process_id)
      .int32(key.secret_key)
      .finish();
}

void append_ready_for_query(std::string& out, char transaction_status) {
  MessageWriter(out).begin(backend::kReadyForQuery).byte(transaction_status).finish();
}

void append_startup_message(std::string& out,
                            const std::vector<std::pair<std::string, std::string>>& parameters) {
  MessageWriter writer(out);
  writer.begin_untyped().int32(static_cast<int32_t>(kProtocolVersion3));
  for (const auto& [name, value] : parameters) writer.cstring(name).cstring(value);
  writer.byte('\0');
  writer.finish();
}

void append_ssl_request(std::string& out) {
  MessageWriter(out).begin_untyped().int32(static_cast<int32_t>(kSslRequestCode)).finish();
}

void append_cancel_request(std::string& out, CancelRequest request) {
  MessageWriter(out)
      .begin_untyped()
      .int32(static_cast<int32_t>(kCancelRequestCode))
      .int32(request.process_id)
      .int32(request.secret_key)
      .finish();
}

void append_password_message(std::string& out, std::string_view password) {
  MessageWriter(out).begin(frontend::kPassword).cstring(password).finish();
}

void append_sasl_initial_response(std::string& out, std::string_view mechanism,
                                  std::string_view data) {
  MessageWriter(out)
      .begin(frontend::kPassword)
      .cstring(mechanism)
      .int32(static_cast<int32_t>(data.size()))
      .bytes(data)
      .finish();
}

void append_sasl_response(std::string& out, std::string_view data) {
  MessageWriter(out).begin(frontend::kPassword).bytes(data).finish();
}

void append_terminate(std::string& out) {
  MessageWriter(out).begin(frontend::kTerminate).finish();
}

void append_describe(std::string& out, char target, std::string_view name) {
  MessageWriter(out).begin(frontend::kDescribe).byte(target).cstring(name).finish();
}

std::string md5_password_response(std::string_view user, std::string_view password,
                                  std::string_view salt) {
  std::string inner(password);
  inner.append(user);
  std::string outer = md5_hex(inner);
  outer.append(salt);
  return "md5" + md5_hex(outer);
}

}  // namespace portcullis::proto::postgres
