#include "proto/mysql/statement_packets.h"

#include <gtest/gtest.h>

#include "proto/mysql/packet.h"

namespace portcullis::proto::mysql {
namespace {

std::string execute_packet(uint32_t id, std::size_t params, const std::string& bitmap, bool types,
                           const std::string& type_bytes, const std::string& values) {
  std::string out;
  PacketWriter w(out);
  w.u8(0x17).u32(id).u8(0).u32(1);
  if (params > 0) {
    w.bytes(bitmap).u8(types ? 1 : 0);
    if (types) w.bytes(type_bytes);
    w.bytes(values);
  }
  return out;
}

TEST(MysqlStatementPackets, ReadsThePrepareAnswer) {
  std::string ok;
  PacketWriter(ok).u8(0).u32(7).u16(3).u16(2).u8(0).u16(1);
  auto prepared = decode_prepare_ok(ok);
  ASSERT_TRUE(prepared);
  EXPECT_EQ(prepared->statement_id, 7u);
  EXPECT_EQ(prepared->columns, 3);
  EXPECT_EQ(prepared->params, 2);
  EXPECT_EQ(prepared->warnings, 1);
  EXPECT_FALSE(decode_prepare_ok(ok.substr(0, 6)));
}

TEST(MysqlStatementPackets, ReadsBoundValuesAsText) {
  std::string types, values;
  PacketWriter t(types);
  t.u8(static_cast<uint8_t>(FieldType::longlong)).u8(0);
  t.u8(static_cast<uint8_t>(FieldType::var_string)).u8(0);
  t.u8(static_cast<uint8_t>(FieldType::long_)).u8(0x80);
  t.u8(static_cast<uint8_t>(FieldType::date)).u8(0);
  PacketWriter v(values);
  v.u64(static_cast<uint64_t>(-5ll)).lenenc_string("bob@example.org").u32(4000000000u);
  v.u8(4).u16(2026).u8(12).u8(6);
  // Parameter 4 (bit 4) is NULL and sends no value.
  const std::string payload = execute_packet(9, 5, std::string(1, '\x10'), true,
                                             types + std::string("\x0f\x00", 2), values);
  auto request = decode_execute(payload, 5, {}, {});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->statement_id, 9u);
  ASSERT_EQ(request->values.size(), 5u);
  EXPECT_EQ(request->values[0], "-5");
  EXPECT_EQ(request->values[1], "bob@example.org");
  EXPECT_EQ(request->values[2], "4000000000");
  EXPECT_EQ(request->values[3], "2026-12-06");
  EXPECT_EQ(request->values[4], std::nullopt);
  ASSERT_EQ(request->types.size(), 5u);

  // A later execution that does not resend the types uses the last ones.
  std::string values2;
  PacketWriter(values2).u64(1).lenenc_string("x").u32(2).u8(0);
  auto again = decode_execute(execute_packet(9, 5, std::string(1, '\x10'), false, {}, values2), 5,
                              request->types, {});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->values[1], "x");
  EXPECT_EQ(again->values[3], "0000-00-00 00:00:00");
  // Without them, and none known, it cannot be read.
  EXPECT_FALSE(
      decode_execute(execute_packet(9, 5, std::string(1, '\x10'), false, {}, values2), 5, {}, {}));
}

TEST(MysqlStatementPackets, SkipsValuesSentAsLongData) {
  std::string types, values;
  PacketWriter(types).u8(static_cast<uint8_t>(FieldType::blob)).u8(0).u8(1).u8(0);
  PacketWriter(values).u8(42);  // only the second parameter's value is in the packet
  auto request =
      decode_execute(execute_packet(1, 2, std::string(1, '\0'), true, types, values), 2, {}, {0});
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->values[0], "");
  EXPECT_EQ(request->values[1], "42");

  std::string long_data;
  PacketWriter(long_data).u8(0x18).u32(1).u16(0).bytes("chunk");
  auto data = decode_long_data(long_data);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->statement_id, 1u);
  EXPECT_EQ(data->param, 0);
  EXPECT_EQ(data->data, "chunk");
}

TEST(MysqlStatementPackets, RefusesValuesThatDoNotMatchTheirTypes) {
  std::string types;
  PacketWriter(types).u8(static_cast<uint8_t>(FieldType::longlong)).u8(0);
  EXPECT_FALSE(
      decode_execute(execute_packet(1, 1, std::string(1, '\0'), true, types, "abc"), 1, {}, {}));
  EXPECT_FALSE(statement_id_of("\x19\x01"));
}

}  // namespace
}  // namespace portcullis::proto::mysql
