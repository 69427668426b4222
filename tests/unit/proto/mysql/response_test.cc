#include "proto/mysql/response.h"

#include <gtest/gtest.h>

#include "hex.h"
#include "proto/mysql/packet.h"

namespace portcullis::proto::mysql {
namespace {
using testing::from_hex;

constexpr Capabilities kCaps = capability::kProtocol41 | capability::kDeprecateEof;

// Captured from MariaDB 10.11: SELECT 1 AS a, 'x' AS b, NULL AS c, email FROM customers ...
constexpr std::string_view kEmailColumn =
    "036465660473686f7009637573746f6d65727309637573746f6d65727305656d61696c05656d61696c0c2d0090"
    "010000fd0000000000";
constexpr std::string_view kRow = "01310178fb11616c696365406578616d706c652e636f6d";
constexpr std::string_view kEnd = "fe000002000000";
constexpr std::string_view kDuplicate =
    "ff26042332333030304475706c696361746520656e7472792027312720666f72206b657920275052494d41525927";
constexpr std::string_view kUpdateOk =
    "0000000200000028526f7773206d6174636865643a203120204368616e6765643a203020205761726e696e67"
    "733a2030";

TEST(MysqlResponse, ReadsARealColumnDefinition) {
  auto column = decode_column_definition(from_hex(kEmailColumn));
  ASSERT_TRUE(column) << column.error().message;
  EXPECT_EQ(column->schema, "shop");
  EXPECT_EQ(column->table, "customers");
  EXPECT_EQ(column->org_table, "customers");
  EXPECT_EQ(column->name, "email");
  EXPECT_EQ(column->org_name, "email");
  EXPECT_EQ(column->type, FieldType::var_string);
  EXPECT_EQ(column->charset, 45);
  EXPECT_TRUE(type_can_hold_text(column->type));
  EXPECT_FALSE(is_binary_string(*column));
  auto again = decode_column_definition(encode_column_definition(*column));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->org_name, "email");
}

TEST(MysqlResponse, ReadsARealTextRowWithANull) {
  RowValues values;  // views into `row`
  const std::string row = from_hex(kRow);
  ASSERT_TRUE(decode_text_row(row, 4, values));
  ASSERT_EQ(values.size(), 4u);
  EXPECT_EQ(values[0], "1");
  EXPECT_EQ(values[1], "x");
  EXPECT_EQ(values[2], std::nullopt);
  EXPECT_EQ(values[3], "alice@example.com");
  std::vector<std::optional<std::string>> owned = {"1", "x", std::nullopt, "alice@example.com"};
  EXPECT_EQ(encode_text_row(owned), from_hex(kRow));
  EXPECT_FALSE(decode_text_row(row, 3, values));  // one value too many
  EXPECT_FALSE(decode_text_row(row, 5, values));  // one missing
}

TEST(MysqlResponse, TellsTheEndOfRowsFromARow) {
  EXPECT_TRUE(is_result_end(from_hex(kEnd), kCaps));
  EXPECT_EQ(result_end_status(from_hex(kEnd), kCaps), status::kAutocommit);
  EXPECT_FALSE(is_result_end(from_hex(kRow), kCaps));
  // Without CLIENT_DEPRECATE_EOF the end is a 5-byte EOF packet.
  const std::string eof = encode_eof({.warnings = 0, .status = status::kMoreResultsExist});
  EXPECT_TRUE(is_result_end(eof, capability::kProtocol41));
  EXPECT_EQ(result_end_status(eof, capability::kProtocol41), status::kMoreResultsExist);
  // A row whose first value is 2^24 bytes or longer also starts with 0xfe, but is longer.
  std::string long_row(1, '\xfe');
  long_row.append(20, 'x');
  EXPECT_FALSE(is_result_end(long_row, capability::kProtocol41));
}

TEST(MysqlResponse, ReadsARealDuplicateKeyError) {
  auto err = decode_err(from_hex(kDuplicate));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, 1062);
  EXPECT_EQ(err->sql_state, "23000");
  EXPECT_EQ(err->message, "Duplicate entry '1' for key 'PRIMARY'");
  EXPECT_EQ(encode_err(*err), from_hex(kDuplicate));
}

TEST(MysqlResponse, ReadsARealOkWithInfo) {
  auto ok = decode_ok(from_hex(kUpdateOk), kCaps | capability::kSessionTrack);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->affected_rows, 0u);
  EXPECT_EQ(ok->status, status::kAutocommit);
  EXPECT_EQ(ok->info, "Rows matched: 1  Changed: 0  Warnings: 0");
  EXPECT_EQ(encode_ok(*ok, kCaps | capability::kSessionTrack), from_hex(kUpdateOk));
}

TEST(MysqlResponse, RoundTripsABinaryRowOfEveryShape) {
  std::vector<ColumnDefinition> columns(5);
  columns[0].type = FieldType::longlong;
  columns[1].type = FieldType::var_string;
  columns[2].type = FieldType::datetime;
  columns[3].type = FieldType::tiny;
  columns[3].flags = kUnsignedFlag;
  columns[4].type = FieldType::blob;
  std::string longlong;
  PacketWriter(longlong).u64(static_cast<uint64_t>(-4111111111111111ll));
  std::string datetime;
  PacketWriter(datetime).u8(7).u16(2026).u8(12).u8(6).u8(11).u8(30).u8(5);
  const std::vector<std::optional<std::string>> values = {longlong, "alice@example.com", datetime,
                                                          std::string("\xff", 1), std::nullopt};
  const std::string row = encode_binary_row(columns, values);
  RowValues decoded;
  ASSERT_TRUE(decode_binary_row(row, columns, decoded));
  ASSERT_EQ(decoded.size(), 5u);
  EXPECT_EQ(decoded[1], "alice@example.com");
  EXPECT_EQ(decoded[4], std::nullopt);
  EXPECT_EQ(binary_value_as_text(*decoded[0], columns[0]), "-4111111111111111");
  EXPECT_EQ(binary_value_as_text(*decoded[3], columns[3]), "255");
  EXPECT_EQ(binary_value_as_text(*decoded[2], columns[2]), std::nullopt);
  EXPECT_TRUE(binary_value_is_string(FieldType::newdecimal));
  EXPECT_FALSE(binary_value_is_string(FieldType::longlong));
  for (std::size_t cut = 0; cut < row.size(); ++cut)
    EXPECT_FALSE(decode_binary_row(std::string_view(row).substr(0, cut), columns, decoded)) << cut;
}

}  // namespace
}  // namespace portcullis::proto::mysql
