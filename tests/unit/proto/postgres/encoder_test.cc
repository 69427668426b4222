// The messages the gateway originates: each is read back with the decoder, and the md5
// password response is checked against an independent computation.
#include "proto/postgres/encoder.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "proto/postgres/decoder.h"

namespace portcullis::proto::postgres {
namespace {

using namespace std::string_literals;

constexpr std::size_t kMaxDecodedBody = 1 << 20;

// The one message in `wire`, which must hold exactly one.
Message only_message(const std::string& wire) {
  Message message;
  std::size_t consumed = 0;
  std::string error;
  EXPECT_EQ(decode_message(wire, kMaxDecodedBody, message, consumed, error), DecodeStatus::ready)
      << error;
  EXPECT_EQ(consumed, wire.size());
  return message;
}

TEST(ErrorResponse, CarriesSeverityCodeMessageDetailAndHint) {
  std::string wire;
  ErrorMessage error;
  error.severity = Severity::fatal;
  error.sqlstate = "42501";
  error.message = "permission denied";
  error.detail = "policy rule 7";
  error.hint = "ask an administrator";
  append_error_response(wire, error);

  const auto message = only_message(wire);
  EXPECT_EQ(message.type, backend::kErrorResponse);
  const auto fields = parse_error_fields(message.body);
  ASSERT_TRUE(fields.ok()) << fields.error().message;
  EXPECT_EQ(fields->field('S'), "FATAL");
  EXPECT_EQ(fields->field('V'), "FATAL");
  EXPECT_EQ(fields->field('C'), "42501");
  EXPECT_EQ(fields->field('M'), "permission denied");
  EXPECT_EQ(fields->field('D'), "policy rule 7");
  EXPECT_EQ(fields->field('H'), "ask an administrator");
  EXPECT_EQ(fields->fields.size(), 6u);
}

TEST(ErrorResponse, OmitsEmptyDetailAndHint) {
  std::string wire;
  ErrorMessage error;
  error.sqlstate = "08P01";
  error.message = "protocol violation";
  append_error_response(wire, error);

  const auto fields = parse_error_fields(only_message(wire).body);
  ASSERT_TRUE(fields.ok()) << fields.error().message;
  EXPECT_EQ(fields->field('S'), "ERROR");
  EXPECT_EQ(fields->field('C'), "08P01");
  EXPECT_FALSE(fields->field('D').has_value());
  EXPECT_FALSE(fields->field('H').has_value());
  EXPECT_EQ(fields->fields.size(), 4u);
}

TEST(NoticeResponse, UsesNoticeTypeAndSeverityNames) {
  const std::pair<Severity, std::string_view> cases[] = {
      {Severity::notice, "NOTICE"}, {Severity::warning, "WARNING"}, {Severity::error, "ERROR"}};
  for (const auto& [severity, name] : cases) {
    std::string wire;
    ErrorMessage notice;
    notice.severity = severity;
    notice.sqlstate = "01000";
    notice.message = "masked 3 columns";
    append_notice_response(wire, notice);
    const auto message = only_message(wire);
    EXPECT_EQ(message.type, backend::kNoticeResponse);
    const auto fields = parse_error_fields(message.body);
    ASSERT_TRUE(fields.ok());
    EXPECT_EQ(fields->field('S'), name);
    EXPECT_EQ(fields->field('V'), name);
  }
}

TEST(ReadyForQuery, IsSixBytesWithTheStatus) {
  std::string wire;
  append_ready_for_query(wire, 'T');
  EXPECT_EQ(wire, "Z\0\0\0\x05T"s);
}

TEST(ParameterStatus, RoundTripsThroughTheDecoder) {
  std::string wire;
  append_parameter_status(wire, "DateStyle", "ISO, MDY");
  const auto message = only_message(wire);
  EXPECT_EQ(message.type, backend::kParameterStatus);
  const auto status = parse_parameter_status(message.body);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->name, "DateStyle");
  EXPECT_EQ(status->value, "ISO, MDY");
}

TEST(BackendKeyData, IsWrittenInNetworkByteOrder) {
  std::string wire;
  append_backend_key_data(wire, BackendKeyData{0x01020304, -1});
  EXPECT_EQ(wire, "K\0\0\0\x0c\x01\x02\x03\x04\xff\xff\xff\xff"s);
}

TEST(Authentication, RoundTripsCodeAndData) {
  std::string wire;
  append_authentication(wire, AuthCode::sasl_final, "v=abc");
  const auto message = only_message(wire);
  EXPECT_EQ(message.type, backend::kAuthentication);
  const auto auth = parse_authentication(message.body);
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->code, AuthCode::sasl_final);
  EXPECT_EQ(auth->data, "v=abc");
}

TEST(StartupMessage, RoundTripsThroughTheStartupDecoder) {
  std::string wire;
  append_startup_message(wire, {{"user", "svc"}, {"database", "db"}, {"DateStyle", "ISO"}});
  EXPECT_EQ(wire.substr(4, 4), "\0\x03\0\0"s);
  EXPECT_EQ(wire.back(), '\0');
  StartupPacket packet;
  std::size_t consumed = 0;
  std::string error;
  ASSERT_EQ(decode_startup_packet(wire, 10000, packet, consumed, error), DecodeStatus::ready)
      << error;
  EXPECT_EQ(consumed, wire.size());
  const auto& startup = std::get<StartupMessage>(packet);
  EXPECT_EQ(startup.protocol_version, kProtocolVersion3);
  ASSERT_EQ(startup.parameters.size(), 3u);
  EXPECT_EQ(startup.parameters[0].first, "user");
  EXPECT_EQ(startup.parameters[0].second, "svc");
  EXPECT_EQ(startup.parameters[2].first, "DateStyle");
  EXPECT_EQ(startup.parameters[2].second, "ISO");
}

TEST(SslRequest, IsTheEightBytePacket) {
  std::string wire;
  append_ssl_request(wire);
  EXPECT_EQ(wire, "\0\0\0\x08\x04\xd2\x16\x2f"s);
}

TEST(CancelRequest, IsSixteenBytesWithKey) {
  std::string wire;
  append_cancel_request(wire, CancelRequest{7, 0x0a0b0c0d});
  EXPECT_EQ(wire, "\0\0\0\x10\x04\xd2\x16\x2e\0\0\0\x07\x0a\x0b\x0c\x0d"s);
}

TEST(PasswordMessage, RoundTripsThroughTheDecoder) {
  std::string wire;
  append_password_message(wire, "md5abc");
  const auto message = only_message(wire);
  EXPECT_EQ(message.type, frontend::kPassword);
  const auto password = parse_password(message.body);
  ASSERT_TRUE(password.ok());
  EXPECT_EQ(*password, "md5abc");
}

TEST(SaslInitialResponse, CarriesMechanismAndLengthPrefixedData) {
  std::string wire;
  append_sasl_initial_response(wire, "SCRAM-SHA-256", "n,,n=,r=abc");
  const auto message = only_message(wire);
  EXPECT_EQ(message.type, frontend::kPassword);
  EXPECT_EQ(message.body, "SCRAM-SHA-256\0\0\0\0\x0bn,,n=,r=abc"s);
}

TEST(SaslResponse, CarriesTheDataUnframed) {
  std::string wire;
  append_sasl_response(wire, "c=biws,r=abc,p=xyz");
  const auto message = only_message(wire);
  EXPECT_EQ(message.type, frontend::kPassword);
  EXPECT_EQ(message.body, "c=biws,r=abc,p=xyz");
}

TEST(Terminate, IsTheFiveByteMessage) {
  std::string wire;
  append_terminate(wire);
  EXPECT_EQ(wire, "X\0\0\0\x04"s);
}

TEST(Describe, RoundTripsThroughTheDecoder) {
  std::string wire;
  append_describe(wire, 'P', "portal 1");
  Message message;
  std::size_t consumed = 0;
  std::string error;
  ASSERT_EQ(decode_message(wire, 1024, message, consumed, error), DecodeStatus::ready);
  EXPECT_EQ(consumed, wire.size());
  EXPECT_EQ(message.type, frontend::kDescribe);
  auto describe = parse_describe_or_close(message.body);
  ASSERT_TRUE(describe);
  EXPECT_EQ(describe->target, 'P');
  EXPECT_EQ(describe->name, "portal 1");
}

TEST(MessageWriter, AppendsSeveralMessagesToOneBuffer) {
  std::string wire = "prefix";
  append_parameter_status(wire, "a", "b");
  append_ready_for_query(wire, 'I');
  std::string_view rest = std::string_view(wire).substr(6);
  Message message;
  std::size_t consumed = 0;
  std::string error;
  ASSERT_EQ(decode_message(rest, kMaxDecodedBody, message, consumed, error), DecodeStatus::ready);
  EXPECT_EQ(message.type, 'S');
  rest.remove_prefix(consumed);
  ASSERT_EQ(decode_message(rest, kMaxDecodedBody, message, consumed, error), DecodeStatus::ready);
  EXPECT_EQ(message.type, 'Z');
  EXPECT_EQ(consumed, rest.size());
}

std::string md5_hex(std::string_view input) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EXPECT_EQ(EVP_Digest(input.data(), input.size(), digest, &size, EVP_md5(), nullptr), 1);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    hex += pair;
  }
  return hex;
}

TEST(Md5PasswordResponse, MatchesIndependentComputation) {
  const std::string salt = "\x01\x02\x03\x04";
  const std::string expected = "md5" + md5_hex(md5_hex("secretalice") + salt);
  EXPECT_EQ(md5_password_response("alice", "secret", salt), expected);
}

TEST(Md5PasswordResponse, MatchesKnownValue) {
  // md5(md5("secret" + "alice") hex + salt 01 02 03 04), computed outside this code base.
  EXPECT_EQ(md5_password_response("alice", "secret", "\x01\x02\x03\x04"),
            "md598a0412b9c31436fc53776e863350083");
}

TEST(Md5PasswordResponse, DependsOnSaltWithZeroBytes) {
  const std::string salt_a = "\0\0\0\x01"s;
  const std::string salt_b = "\0\0\0\x02"s;
  const auto a = md5_password_response("u", "p", salt_a);
  EXPECT_EQ(a, "md5" + md5_hex(md5_hex("pu") + salt_a));
  EXPECT_NE(a, md5_password_response("u", "p", salt_b));
  EXPECT_EQ(a.size(), 35u);
}

}  // namespace
}  // namespace portcullis::proto::postgres
