// Framing and body reading of PostgreSQL v3 messages: every body the gateway inspects is
// built with the encoder and read back, and every truncated or hostile body is an error.
#include "proto/postgres/decoder.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "proto/postgres/encoder.h"

// The largest single allocation since the probe was last reset: lets a test show that a
// hostile count in a small body does not make the decoder reserve memory for it.
namespace {
std::size_t largest_allocation = 0;
}  // namespace

void* operator new(std::size_t size) {
  if (size > largest_allocation) largest_allocation = size;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace portcullis::proto::postgres {
namespace {

using namespace std::string_literals;

constexpr std::size_t kMaxBody = 1 << 20;
// PostgreSQL's MAX_STARTUP_PACKET_LENGTH (src/include/libpq/pqcomm.h).
constexpr std::size_t kMaxStartup = 10000;

std::string frame(char type, std::string_view body) {
  std::string out;
  MessageWriter(out).begin(type).bytes(body).finish();
  return out;
}

// The body of the single message in `wire`: a view, as the parsers' results are.
std::string_view body_of(const std::string& wire) {
  return std::string_view(wire).substr(kHeaderSize);
}

std::string be32(uint32_t value) {
  std::string out(4, '\0');
  out[0] = static_cast<char>(value >> 24);
  out[1] = static_cast<char>(value >> 16);
  out[2] = static_cast<char>(value >> 8);
  out[3] = static_cast<char>(value);
  return out;
}

std::string be16(int16_t value) {
  const auto v = static_cast<uint16_t>(value);
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

// Every message in `stream`, decoded from a buffer that grows by `step` bytes at a time.
std::vector<std::pair<char, std::string>> decode_fed(std::string_view stream, std::size_t step) {
  std::vector<std::pair<char, std::string>> out;
  std::string buffer;
  std::size_t fed = 0;
  while (fed < stream.size() || !buffer.empty()) {
    if (fed < stream.size()) {
      const auto n = std::min(step, stream.size() - fed);
      buffer.append(stream.substr(fed, n));
      fed += n;
    }
    for (;;) {
      Message message;
      std::size_t consumed = 0;
      std::string error;
      const auto status = decode_message(buffer, kMaxBody, message, consumed, error);
      EXPECT_NE(status, DecodeStatus::invalid) << error;
      if (status != DecodeStatus::ready) break;
      out.emplace_back(message.type, std::string(message.body));
      buffer.erase(0, consumed);
    }
    if (fed == stream.size() && !buffer.empty()) {
      ADD_FAILURE() << "bytes left over at the end of the stream: " << buffer.size();
      break;
    }
  }
  return out;
}

// --- Framing ---

TEST(DecodeMessage, FramesEveryMessageType) {
  const std::string types =
      "BCdcfDEHFPpQSX"
      "RK23CWdcGHDIEVvnNAtS1sZT";
  for (char type : types) {
    const std::string body = "body of "s + type;
    const std::string wire = frame(type, body) + "trailing";
    Message message;
    std::size_t consumed = 0;
    std::string error;
    ASSERT_EQ(decode_message(wire, kMaxBody, message, consumed, error), DecodeStatus::ready)
        << type;
    EXPECT_EQ(message.type, type);
    EXPECT_EQ(message.body, body);
    EXPECT_EQ(consumed, kHeaderSize + body.size());
  }
}

TEST(DecodeMessage, FramesEmptyBody) {
  std::string wire;
  append_terminate(wire);
  Message message;
  std::size_t consumed = 0;
  std::string error;
  ASSERT_EQ(decode_message(wire, kMaxBody, message, consumed, error), DecodeStatus::ready);
  EXPECT_EQ(message.type, frontend::kTerminate);
  EXPECT_TRUE(message.body.empty());
  EXPECT_EQ(consumed, kHeaderSize);
}

TEST(DecodeMessage, NeedsMoreOnPartialHeader) {
  const std::string wire = frame('Q', "SELECT 1\0"s);
  for (std::size_t n = 0; n < kHeaderSize; ++n) {
    Message message;
    std::size_t consumed = 0;
    std::string error;
    EXPECT_EQ(
        decode_message(std::string_view(wire).substr(0, n), kMaxBody, message, consumed, error),
        DecodeStatus::need_more)
        << n;
    FrameHeader header;
    EXPECT_EQ(decode_header(std::string_view(wire).substr(0, n), kMaxBody, header, error),
              DecodeStatus::need_more);
  }
}

TEST(DecodeMessage, NeedsMoreOnPartialBody) {
  const std::string wire = frame('Q', "SELECT 1\0"s);
  for (std::size_t n = kHeaderSize; n < wire.size(); ++n) {
    Message message;
    std::size_t consumed = 0;
    std::string error;
    EXPECT_EQ(
        decode_message(std::string_view(wire).substr(0, n), kMaxBody, message, consumed, error),
        DecodeStatus::need_more)
        << n;
  }
}

TEST(DecodeHeader, ReportsTypeAndBodySizeBeforeTheBodyArrives) {
  const std::string wire = frame('D', std::string(300, 'x'));
  FrameHeader header;
  std::string error;
  ASSERT_EQ(decode_header(std::string_view(wire).substr(0, kHeaderSize), kMaxBody, header, error),
            DecodeStatus::ready);
  EXPECT_EQ(header.type, 'D');
  EXPECT_EQ(header.body_size, 300u);
}

TEST(DecodeMessage, ByteByByteFeedingYieldsTheSameMessages) {
  std::string stream;
  append_authentication(stream, AuthCode::ok);
  append_parameter_status(stream, "client_encoding", "UTF8");
  append_backend_key_data(stream, BackendKeyData{42, -7});
  append_ready_for_query(stream, 'I');
  stream += frame('Q', "SELECT 1\0"s);
  stream += frame('D', std::string(1000, '\xff'));
  append_terminate(stream);

  const auto whole = decode_fed(stream, stream.size());
  ASSERT_EQ(whole.size(), 7u);
  EXPECT_EQ(whole[0].first, 'R');
  EXPECT_EQ(whole[5].second, std::string(1000, '\xff'));
  EXPECT_EQ(whole[6].first, 'X');
  for (std::size_t step : {1, 2, 3, 7, 64}) EXPECT_EQ(decode_fed(stream, step), whole) << step;
}

TEST(DecodeMessage, RejectsLengthShorterThanItself) {
  for (uint32_t length : {0u, 1u, 2u, 3u}) {
    const std::string wire = "Q"s + be32(length) + "padding";
    Message message;
    std::size_t consumed = 0;
    std::string error;
    EXPECT_EQ(decode_message(wire, kMaxBody, message, consumed, error), DecodeStatus::invalid)
        << length;
    EXPECT_FALSE(error.empty());
  }
}

TEST(DecodeMessage, RejectsMessageLongerThanLimit) {
  constexpr std::size_t kLimit = 100;
  const std::string wire = "D"s + be32(kLimit + 4 + 1);
  Message message;
  std::size_t consumed = 0;
  std::string error;
  EXPECT_EQ(decode_message(wire, kLimit, message, consumed, error), DecodeStatus::invalid);
  EXPECT_NE(error.find("exceeds"), std::string::npos) << error;
}

TEST(DecodeMessage, RejectsHugeDeclaredLengthWithoutWaitingForIt) {
  const std::string wire = "D"s + be32(0xffffffff);
  Message message;
  std::size_t consumed = 0;
  std::string error;
  EXPECT_EQ(decode_message(wire, kMaxBody, message, consumed, error), DecodeStatus::invalid);
}

TEST(DecodeMessage, AcceptsMessageExactlyAtLimit) {
  constexpr std::size_t kLimit = 100;
  const std::string wire = frame('D', std::string(kLimit, 'a'));
  Message message;
  std::size_t consumed = 0;
  std::string error;
  EXPECT_EQ(decode_message(wire, kLimit, message, consumed, error), DecodeStatus::ready) << error;
  EXPECT_EQ(consumed, wire.size());
}

// --- Frontend bodies ---

// Every strict prefix of a well-formed body, and the body with a byte after it, are errors.
template <class Parser>
void expect_truncations_rejected(Parser parser, std::string_view body) {
  for (std::size_t n = 0; n < body.size(); ++n)
    EXPECT_FALSE(parser(body.substr(0, n)).ok()) << "prefix of " << n;
  EXPECT_FALSE(parser(std::string(body) + "x").ok()) << "trailing byte";
}

TEST(ParseQuery, ReadsTheSqlText) {
  std::string wire;
  MessageWriter(wire).begin(frontend::kQuery).cstring("SELECT 1; SELECT 2").finish();
  const auto query = parse_query(body_of(wire));
  ASSERT_TRUE(query.ok()) << query.error().message;
  EXPECT_EQ(query->sql, "SELECT 1; SELECT 2");
  expect_truncations_rejected(parse_query, body_of(wire));
}

TEST(ParseParse, RoundTripsNameQueryAndParameterTypes) {
  std::string wire;
  MessageWriter(wire)
      .begin(frontend::kParse)
      .cstring("stmt1")
      .cstring("SELECT $1::int, $2")
      .int16(2)
      .int32(23)
      .int32(static_cast<int32_t>(4000000000u))
      .finish();
  const auto parse = parse_parse(body_of(wire));
  ASSERT_TRUE(parse.ok()) << parse.error().message;
  EXPECT_EQ(parse->statement, "stmt1");
  EXPECT_EQ(parse->query, "SELECT $1::int, $2");
  EXPECT_EQ(parse->parameter_types, (std::vector<uint32_t>{23, 4000000000u}));
  expect_truncations_rejected(parse_parse, body_of(wire));
}

TEST(ParseParse, ReadsUnnamedStatementWithoutTypes) {
  std::string wire;
  MessageWriter(wire).begin(frontend::kParse).cstring("").cstring("SELECT 1").int16(0).finish();
  const auto parse = parse_parse(body_of(wire));
  ASSERT_TRUE(parse.ok()) << parse.error().message;
  EXPECT_EQ(parse->statement, "");
  EXPECT_TRUE(parse->parameter_types.empty());
}

TEST(ParseParse, RejectsNegativeOrHostileTypeCount) {
  EXPECT_FALSE(parse_parse("\0q\0"s + be16(-1)).ok());
  largest_allocation = 0;
  EXPECT_FALSE(parse_parse("\0q\0"s + be16(32767) + be32(23)).ok());
  EXPECT_LT(largest_allocation, 4096u);
}

std::string bind_body(std::string_view portal, std::string_view statement,
                      const std::vector<int16_t>& formats,
                      const std::vector<std::optional<std::string>>& values,
                      const std::vector<int16_t>& result_formats) {
  std::string wire;
  MessageWriter writer(wire);
  writer.begin(frontend::kBind).cstring(portal).cstring(statement);
  writer.int16(static_cast<int16_t>(formats.size()));
  for (auto f : formats) writer.int16(f);
  writer.int16(static_cast<int16_t>(values.size()));
  for (const auto& v : values) {
    if (v)
      writer.int32(static_cast<int32_t>(v->size())).bytes(*v);
    else
      writer.int32(-1);
  }
  writer.int16(static_cast<int16_t>(result_formats.size()));
  for (auto f : result_formats) writer.int16(f);
  writer.finish();
  return wire.substr(kHeaderSize);
}

TEST(ParseBind, ReadsBindWithoutFormatCodes) {
  const auto body = bind_body("", "s", {}, {"1", "abc"}, {});
  const auto bind = parse_bind(body);
  ASSERT_TRUE(bind.ok()) << bind.error().message;
  EXPECT_EQ(bind->portal, "");
  EXPECT_EQ(bind->statement, "s");
  EXPECT_TRUE(bind->parameter_formats.empty());
  ASSERT_EQ(bind->parameters.size(), 2u);
  EXPECT_EQ(bind->parameters[0], "1");
  EXPECT_EQ(bind->parameters[1], "abc");
  EXPECT_TRUE(bind->result_formats.empty());
  expect_truncations_rejected(parse_bind, body);
}

TEST(ParseBind, ReadsBindWithOneFormatCodeForAll) {
  const auto body = bind_body("p", "s", {1}, {"\x00\x01"s, "\xff"s, ""}, {1});
  const auto bind = parse_bind(body);
  ASSERT_TRUE(bind.ok()) << bind.error().message;
  EXPECT_EQ(bind->parameter_formats, std::vector<int16_t>{1});
  ASSERT_EQ(bind->parameters.size(), 3u);
  EXPECT_EQ(bind->parameters[0], "\x00\x01"s);
  EXPECT_EQ(bind->parameters[2], "");  // empty, not NULL
  EXPECT_EQ(bind->result_formats, std::vector<int16_t>{1});
  expect_truncations_rejected(parse_bind, body);
}

TEST(ParseBind, ReadsBindWithOneFormatCodePerParameterAndNulls) {
  const auto body =
      bind_body("portal", "stmt", {0, 1, 0}, {"t", std::nullopt, std::nullopt}, {0, 1, 1, 0});
  const auto bind = parse_bind(body);
  ASSERT_TRUE(bind.ok()) << bind.error().message;
  EXPECT_EQ(bind->parameter_formats, (std::vector<int16_t>{0, 1, 0}));
  ASSERT_EQ(bind->parameters.size(), 3u);
  EXPECT_EQ(bind->parameters[0], "t");
  EXPECT_FALSE(bind->parameters[1].has_value());
  EXPECT_FALSE(bind->parameters[2].has_value());
  EXPECT_EQ(bind->result_formats, (std::vector<int16_t>{0, 1, 1, 0}));
  expect_truncations_rejected(parse_bind, body);
}

TEST(ParseBind, RejectsFormatCountThatMatchesNeitherOneNorAll) {
  EXPECT_FALSE(parse_bind(bind_body("", "", {0, 1}, {"a", "b", "c"}, {})).ok());
}

TEST(ParseBind, RejectsNegativeLengthOtherThanNull) {
  const std::string body = "\0\0"s + be16(0) + be16(1) + be32(static_cast<uint32_t>(-2)) + be16(0);
  EXPECT_FALSE(parse_bind(body).ok());
}

TEST(ParseBind, RejectsValueLongerThanBody) {
  const std::string body = "\0\0"s + be16(0) + be16(1) + be32(1000) + "abc" + be16(0);
  EXPECT_FALSE(parse_bind(body).ok());
}

TEST(ParseBind, RejectsNegativeCounts) {
  EXPECT_FALSE(parse_bind("\0\0"s + be16(-1) + be16(0) + be16(0)).ok());
  EXPECT_FALSE(parse_bind("\0\0"s + be16(0) + be16(-1) + be16(0)).ok());
  EXPECT_FALSE(parse_bind("\0\0"s + be16(0) + be16(0) + be16(-1)).ok());
}

TEST(ParseBind, RejectsHostileCountsWithoutBigAllocation) {
  const std::vector<std::string> bodies = {
      "\0\0"s + be16(32767) + be16(0) + be16(0),            // format codes
      "\0\0"s + be16(0) + be16(32767) + be32(0) + be16(0),  // values
      "\0\0"s + be16(0) + be16(0) + be16(32767) + be16(0),  // result formats
      "\0\0"s + be16(1) + be16(0) + be16(32767) + be32(0xffffffffu) +
          be16(0),  // values, some present
  };
  for (const auto& body : bodies) {
    largest_allocation = 0;
    EXPECT_FALSE(parse_bind(body).ok());
    // 32767 optional<string_view> would be ~780 KiB; 32767 int16 ~64 KiB.
    EXPECT_LT(largest_allocation, 4096u);
  }
}

TEST(ParseExecute, RoundTripsPortalAndRowLimit) {
  std::string wire;
  MessageWriter(wire).begin(frontend::kExecute).cstring("cur").int32(50).finish();
  const auto execute = parse_execute(body_of(wire));
  ASSERT_TRUE(execute.ok()) << execute.error().message;
  EXPECT_EQ(execute->portal, "cur");
  EXPECT_EQ(execute->max_rows, 50);
  expect_truncations_rejected(parse_execute, body_of(wire));
}

TEST(ParseDescribeOrClose, ReadsStatementAndPortalTargets) {
  for (char target : {'S', 'P'}) {
    std::string wire;
    MessageWriter(wire).begin(frontend::kClose).byte(target).cstring("name").finish();
    const auto close = parse_describe_or_close(body_of(wire));
    ASSERT_TRUE(close.ok()) << close.error().message;
    EXPECT_EQ(close->target, target);
    EXPECT_EQ(close->name, "name");
    expect_truncations_rejected(parse_describe_or_close, body_of(wire));
  }
}

TEST(ParseDescribeOrClose, RejectsUnknownTarget) {
  EXPECT_FALSE(parse_describe_or_close("Xname\0"s).ok());
  EXPECT_FALSE(parse_describe_or_close("s\0"s).ok());
}

TEST(ParseFunctionCall, RoundTripsArguments) {
  std::string wire;
  MessageWriter(wire)
      .begin(frontend::kFunctionCall)
      .int32(1234)
      .int16(1)
      .int16(1)
      .int16(2)
      .int32(3)
      .bytes("abc")
      .int32(-1)
      .int16(1)
      .finish();
  const auto call = parse_function_call(body_of(wire));
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->function_oid, 1234u);
  EXPECT_EQ(call->argument_formats, std::vector<int16_t>{1});
  ASSERT_EQ(call->arguments.size(), 2u);
  EXPECT_EQ(call->arguments[0], "abc");
  EXPECT_FALSE(call->arguments[1].has_value());
  EXPECT_EQ(call->result_format, 1);
  expect_truncations_rejected(parse_function_call, body_of(wire));
}

// As in Bind: the session indexes format codes by argument when there is more than one.
TEST(ParseFunctionCall, RejectsFormatCountThatMatchesNeitherOneNorAll) {
  std::string wire;
  MessageWriter(wire)
      .begin(frontend::kFunctionCall)
      .int32(1234)
      .int16(2)
      .int16(0)
      .int16(1)
      .int16(3)
      .int32(1)
      .bytes("a")
      .int32(1)
      .bytes("b")
      .int32(1)
      .bytes("c")
      .int16(0)
      .finish();
  EXPECT_FALSE(parse_function_call(body_of(wire)).ok());
}

TEST(ParseFunctionCall, RejectsHostileArgumentCount) {
  largest_allocation = 0;
  EXPECT_FALSE(parse_function_call(be32(1) + be16(0) + be16(32767) + be32(0) + be16(0)).ok());
  EXPECT_LT(largest_allocation, 4096u);
}

TEST(ParsePassword, ReadsTheCleartextPassword) {
  std::string wire;
  append_password_message(wire, "s3cret token");
  const auto password = parse_password(body_of(wire));
  ASSERT_TRUE(password.ok()) << password.error().message;
  EXPECT_EQ(*password, "s3cret token");
  expect_truncations_rejected(parse_password, body_of(wire));
}

// --- Backend bodies ---

TEST(ParseAuthentication, ReadsCodeAndData) {
  std::string wire;
  append_authentication(wire, AuthCode::md5_password, "\x01\x02\x03\x04");
  auto auth = parse_authentication(body_of(wire));
  ASSERT_TRUE(auth.ok()) << auth.error().message;
  EXPECT_EQ(auth->code, AuthCode::md5_password);
  EXPECT_EQ(auth->data, "\x01\x02\x03\x04");

  wire.clear();
  append_authentication(wire, AuthCode::sasl, "SCRAM-SHA-256\0\0"s);
  auth = parse_authentication(body_of(wire));
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->code, AuthCode::sasl);
  EXPECT_EQ(auth->data, "SCRAM-SHA-256\0\0"s);

  for (std::size_t n = 0; n < 4; ++n)
    EXPECT_FALSE(parse_authentication(std::string(n, '\0')).ok()) << n;
}

TEST(ParseBackendKeyData, RoundTripsProcessIdAndSecret) {
  std::string wire;
  append_backend_key_data(wire, BackendKeyData{123456, -559038737});
  const auto key = parse_backend_key_data(body_of(wire));
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->process_id, 123456);
  EXPECT_EQ(key->secret_key, -559038737);
  expect_truncations_rejected(parse_backend_key_data, body_of(wire));
}

TEST(ParseParameterStatus, RoundTripsNameAndValue) {
  std::string wire;
  append_parameter_status(wire, "server_version", "15.4");
  const auto status = parse_parameter_status(body_of(wire));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->name, "server_version");
  EXPECT_EQ(status->value, "15.4");
  expect_truncations_rejected(parse_parameter_status, body_of(wire));
}

TEST(ParseReadyForQuery, RoundTripsTransactionStatus) {
  for (char status : {'I', 'T', 'E'}) {
    std::string wire;
    append_ready_for_query(wire, status);
    const auto ready = parse_ready_for_query(body_of(wire));
    ASSERT_TRUE(ready.ok()) << ready.error().message;
    EXPECT_EQ(ready->transaction_status, status);
    expect_truncations_rejected(parse_ready_for_query, body_of(wire));
  }
}

TEST(ParseErrorFields, RejectsUnterminatedAndGarbageBodies) {
  EXPECT_FALSE(parse_error_fields("").ok());
  EXPECT_FALSE(parse_error_fields("SERROR").ok());
  EXPECT_FALSE(parse_error_fields("SERROR\0"s).ok());
  EXPECT_FALSE(parse_error_fields("SERROR\0\0x"s).ok());
  const auto empty = parse_error_fields("\0"s);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->fields.empty());
}

TEST(BodyParsers, NeverAcceptGarbageAsAWellFormedBody) {
  // Bytes that are not a body of any of these kinds; each parser must say so, not crash.
  const std::vector<std::string> garbage = {"", "\xff", "\xff\xff\xff\xff\xff\xff\xff",
                                            std::string(3, '\0') + "\x7f"};
  for (const auto& body : garbage) {
    EXPECT_FALSE(parse_parse(body).ok());
    EXPECT_FALSE(parse_bind(body).ok());
    EXPECT_FALSE(parse_execute(body).ok());
    EXPECT_FALSE(parse_describe_or_close(body).ok());
    EXPECT_FALSE(parse_function_call(body).ok());
    EXPECT_FALSE(parse_backend_key_data(body).ok());
    EXPECT_FALSE(parse_parameter_status(body).ok());
  }
}

// --- Startup packets ---

DecodeStatus decode_startup(std::string_view input, StartupPacket& packet, std::string& error,
                            std::size_t* consumed_out = nullptr) {
  std::size_t consumed = 0;
  const auto status = decode_startup_packet(input, kMaxStartup, packet, consumed, error);
  if (consumed_out != nullptr) *consumed_out = consumed;
  return status;
}

TEST(DecodeStartupPacket, ReadsSslRequest) {
  std::string wire;
  append_ssl_request(wire);
  ASSERT_EQ(wire.size(), 8u);
  StartupPacket packet;
  std::string error;
  std::size_t consumed = 0;
  ASSERT_EQ(decode_startup(wire, packet, error, &consumed), DecodeStatus::ready) << error;
  EXPECT_TRUE(std::holds_alternative<SslRequest>(packet));
  EXPECT_EQ(consumed, 8u);
}

TEST(DecodeStartupPacket, ReadsGssEncRequest) {
  const std::string wire = be32(8) + be32(kGssEncRequestCode);
  StartupPacket packet;
  std::string error;
  ASSERT_EQ(decode_startup(wire, packet, error), DecodeStatus::ready) << error;
  EXPECT_TRUE(std::holds_alternative<GssEncRequest>(packet));
}

TEST(DecodeStartupPacket, ReadsCancelRequest) {
  std::string wire;
  append_cancel_request(wire, CancelRequest{4242, -17});
  StartupPacket packet;
  std::string error;
  std::size_t consumed = 0;
  ASSERT_EQ(decode_startup(wire + "next", packet, error, &consumed), DecodeStatus::ready) << error;
  ASSERT_TRUE(std::holds_alternative<CancelRequest>(packet));
  EXPECT_EQ(std::get<CancelRequest>(packet).process_id, 4242);
  EXPECT_EQ(std::get<CancelRequest>(packet).secret_key, -17);
  EXPECT_EQ(consumed, 16u);
}

TEST(DecodeStartupPacket, RejectsShortCancelRequest) {
  const std::string wire = be32(12) + be32(kCancelRequestCode) + be32(1);
  StartupPacket packet;
  std::string error;
  EXPECT_EQ(decode_startup(wire, packet, error), DecodeStatus::invalid);
}

TEST(DecodeStartupPacket, ReadsStartupMessageWithParameters) {
  std::string wire;
  append_startup_message(
      wire,
      {{"user", "alice"}, {"database", "sales"}, {"application_name", ""}, {"options", "-c a=b"}});
  StartupPacket packet;
  std::string error;
  std::size_t consumed = 0;
  ASSERT_EQ(decode_startup(wire, packet, error, &consumed), DecodeStatus::ready) << error;
  EXPECT_EQ(consumed, wire.size());
  ASSERT_TRUE(std::holds_alternative<StartupMessage>(packet));
  const auto& startup = std::get<StartupMessage>(packet);
  EXPECT_EQ(startup.protocol_version, kProtocolVersion3);
  ASSERT_EQ(startup.parameters.size(), 4u);
  EXPECT_EQ(startup.parameter("user"), "alice");
  EXPECT_EQ(startup.parameter("database"), "sales");
  EXPECT_EQ(startup.parameter("application_name"), "");
  EXPECT_EQ(startup.parameter("options"), "-c a=b");
  EXPECT_FALSE(startup.parameter("replication").has_value());
}

TEST(DecodeStartupPacket, NeedsMoreUntilThePacketIsWhole) {
  std::string wire;
  append_startup_message(wire, {{"user", "alice"}});
  for (std::size_t n = 0; n < wire.size(); ++n) {
    StartupPacket packet;
    std::string error;
    EXPECT_EQ(decode_startup(std::string_view(wire).substr(0, n), packet, error),
              DecodeStatus::need_more)
        << n;
  }
}

TEST(DecodeStartupPacket, RejectsPacketLongerThanLimit) {
  const std::string wire = be32(kMaxStartup + 1) + be32(kProtocolVersion3);
  StartupPacket packet;
  std::string error;
  EXPECT_EQ(decode_startup(wire, packet, error), DecodeStatus::invalid);
  EXPECT_FALSE(error.empty());
}

TEST(DecodeStartupPacket, WaitsForPacketExactlyAtLimit) {
  const std::string wire = be32(kMaxStartup) + be32(kProtocolVersion3);
  StartupPacket packet;
  std::string error;
  EXPECT_EQ(decode_startup(wire, packet, error), DecodeStatus::need_more) << error;
}

TEST(DecodeStartupPacket, RejectsLengthBelowEight) {
  for (uint32_t length : {0u, 4u, 7u}) {
    const std::string wire = be32(length) + be32(kSslRequestCode);
    StartupPacket packet;
    std::string error;
    EXPECT_EQ(decode_startup(wire, packet, error), DecodeStatus::invalid) << length;
  }
}

TEST(DecodeStartupPacket, RejectsParameterListWithoutTerminator) {
  const std::string params = "user\0alice\0"s;  // no final empty name
  const std::string wire =
      be32(static_cast<uint32_t>(8 + params.size())) + be32(kProtocolVersion3) + params;
  StartupPacket packet;
  std::string error;
  EXPECT_EQ(decode_startup(wire, packet, error), DecodeStatus::invalid);
  EXPECT_NE(error.find("not terminated"), std::string::npos) << error;
}

TEST(DecodeStartupPacket, RejectsParameterWithoutValue) {
  const std::string params = "user\0alice\0database"s;
  const std::string wire =
      be32(static_cast<uint32_t>(8 + params.size())) + be32(kProtocolVersion3) + params;
  StartupPacket packet;
  std::string error;
  EXPECT_EQ(decode_startup(wire, packet, error), DecodeStatus::invalid);
}

TEST(DecodeStartupPacket, RejectsBytesAfterTheParameterList) {
  const std::string params = "user\0alice\0\0junk"s;
  const std::string wire =
      be32(static_cast<uint32_t>(8 + params.size())) + be32(kProtocolVersion3) + params;
  StartupPacket packet;
  std::string error;
  EXPECT_EQ(decode_startup(wire, packet, error), DecodeStatus::invalid);
}

TEST(DecodeStartupPacket, ReturnsProtocolTwoAsStartupMessageWithThatVersion) {
  constexpr uint32_t kProtocol2 = 2 << 16;
  // A 2.0 startup packet is fixed-size (296 bytes) and not a parameter list.
  const std::string wire = be32(296) + be32(kProtocol2) + std::string(288, 'x');
  StartupPacket packet;
  std::string error;
  ASSERT_EQ(decode_startup(wire, packet, error), DecodeStatus::ready) << error;
  ASSERT_TRUE(std::holds_alternative<StartupMessage>(packet));
  EXPECT_EQ(std::get<StartupMessage>(packet).protocol_version, kProtocol2);
  EXPECT_TRUE(std::get<StartupMessage>(packet).parameters.empty());
}

TEST(DecodeStartupPacket, ReturnsMinorVersionThreeAsStartupMessage) {
  std::string wire = be32(9) + be32((3 << 16) | 2) + "\0"s;
  StartupPacket packet;
  std::string error;
  ASSERT_EQ(decode_startup(wire, packet, error), DecodeStatus::ready) << error;
  ASSERT_TRUE(std::holds_alternative<StartupMessage>(packet));
  EXPECT_EQ(std::get<StartupMessage>(packet).protocol_version, (3u << 16) | 2);
}

TEST(ParseRowDescription, ReadsEveryFieldAndRejectsTruncation) {
  std::string body;
  MessageWriter writer(body);
  writer.begin(backend::kRowDescription).int16(2);
  writer.cstring("email").int32(16384).int16(3).int32(25).int16(-1).int32(-1).int16(0);
  writer.cstring("id").int32(16384).int16(1).int32(23).int16(4).int32(-1).int16(1);
  writer.finish();
  const std::string_view payload = std::string_view(body).substr(kHeaderSize);
  auto fields = parse_row_description(payload);
  ASSERT_TRUE(fields.ok()) << fields.error().message;
  ASSERT_EQ(fields->size(), 2u);
  EXPECT_EQ((*fields)[0].name, "email");
  EXPECT_EQ((*fields)[0].table_oid, 16384u);
  EXPECT_EQ((*fields)[0].type_oid, 25u);
  EXPECT_EQ((*fields)[1].format, 1);
  for (std::size_t cut = 0; cut < payload.size(); ++cut)
    EXPECT_FALSE(parse_row_description(payload.substr(0, cut)).ok()) << cut;
  // A count far larger than the body is refused before anything is reserved.
  std::string hostile("\x7f\xff", 2);
  EXPECT_FALSE(parse_row_description(hostile).ok());
}

}  // namespace
}  // namespace portcullis::proto::postgres
