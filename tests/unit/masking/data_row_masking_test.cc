// DataRow, COPY and error-field rewriting: lengths, NULLs, binary formats, unchanged rows.
#include "proto/postgres/data_row_masking.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "test_masker.h"

namespace portcullis::proto::postgres {
namespace {

using masking::ColumnPlan;
using masking::testing::all_detectors;

constexpr uint32_t kText = 25, kInt4 = 23, kJsonb = 3802, kBytea = 17, kInet = 869, kInt8 = 20,
                   kInt2 = 21, kNumeric = 1700, kFloat8 = 701, kMoney = 790, kUuid = 2950;

std::string data_row(const std::vector<std::optional<std::string>>& values) {
  std::string out;
  out.push_back(static_cast<char>(values.size() >> 8));
  out.push_back(static_cast<char>(values.size()));
  for (const auto& v : values) {
    const uint32_t n = v ? static_cast<uint32_t>(v->size()) : 0xffffffffu;
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(n >> s));
    if (v) out += *v;
  }
  return out;
}

struct Fixture : ::testing::Test {
  std::shared_ptr<const masking::Masker> masker = all_detectors();
  masking::Scratch scratch;
  masking::MaskCounts counts;
  std::string out;

  ColumnMasking text_col(uint32_t oid = kText, FormatCode f = FormatCode::text) {
    return ColumnMasking{masker->plan_column("t", "c", type_can_hold_text(oid)), oid, f};
  }
};

using DataRowMasking = Fixture;

TEST_F(DataRowMasking, ForwardsRowsWithNoPiiUnchanged) {
  const std::string body = data_row({"hello", std::nullopt, "42"});
  std::vector<ColumnMasking> cols{text_col(), text_col(), text_col(kInt4)};
  out = "untouched";
  auto r = mask_data_row(body, cols, *masker, scratch, counts, out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, MaskOutcome::unchanged);
  EXPECT_EQ(out, "untouched");
}

TEST_F(DataRowMasking, RewritesValuesWithCorrectLengthsAndKeepsNulls) {
  const std::string body = data_row({"id-1", "mail alice@example.com", std::nullopt, "x"});
  std::vector<ColumnMasking> cols{text_col(), text_col(), text_col(), text_col()};
  auto r = mask_data_row(body, cols, *masker, scratch, counts, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, MaskOutcome::rewritten);
  EXPECT_EQ(out, data_row({"id-1", "mail [email]", std::nullopt, "x"}));
}

TEST_F(DataRowMasking, NullStrategyWritesMinusOne) {
  config::MaskingProfileConfig p;
  p.columns = {{"*.ssn", "null", 1}};
  auto m = masking::testing::make_masker(p);
  std::vector<ColumnMasking> cols{{m->plan_column("p", "ssn", false), kInt4, FormatCode::binary},
                                  {m->plan_column("p", "name", true), kText, FormatCode::text}};
  auto r = mask_data_row(data_row({std::string("\0\0\0\x07", 4), "bob"}), cols, *m, scratch, counts,
                         out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(out, data_row({std::nullopt, "bob"}));
}

TEST_F(DataRowMasking, BinaryTextAndJsonbWithItsVersionByte) {
  std::vector<ColumnMasking> cols{text_col(kText, FormatCode::binary),
                                  text_col(kJsonb, FormatCode::binary)};
  const std::string jsonb = std::string(1, '\x01') + R"({"email": "a@example.com"})";
  auto r = mask_data_row(data_row({"a@example.com", jsonb}), cols, *masker, scratch, counts, out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(out, data_row({"[email]", std::string(1, '\x01') + R"({"email": "[email]"})"}));
}

TEST_F(DataRowMasking, RefusesBinaryValuesItCannotRead) {
  std::vector<ColumnMasking> cols{text_col(kInet, FormatCode::binary)};
  auto r = mask_data_row(data_row({std::string("\x02\x20\x00\x04\x0a\x00\x00\x01", 8)}), cols,
                         *masker, scratch, counts, out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("binary format"), std::string::npos);
  std::vector<ColumnMasking> bad_jsonb{text_col(kJsonb, FormatCode::binary)};
  EXPECT_FALSE(mask_data_row(data_row({"\x02{}"}), bad_jsonb, *masker, scratch, counts, out).ok());
}

std::string be(uint64_t v, int bytes) {
  std::string out;
  for (int s = (bytes - 1) * 8; s >= 0; s -= 8) out.push_back(static_cast<char>(v >> s));
  return out;
}

// numeric's binary form: ndigits, weight, sign, dscale, base-10000 digits.
std::string numeric_binary(std::vector<uint16_t> digits, int16_t weight, uint16_t dscale,
                           bool negative = false) {
  std::string out = be(digits.size(), 2) + be(static_cast<uint16_t>(weight), 2) +
                    be(negative ? 0x4000 : 0, 2) + be(dscale, 2);
  for (auto d : digits) out += be(d, 2);
  return out;
}

TEST_F(DataRowMasking, NumbersAreScannedAsText) {
  EXPECT_TRUE(type_can_hold_text(kInt8));
  EXPECT_TRUE(type_can_hold_text(kNumeric));
  EXPECT_TRUE(type_can_hold_text(kFloat8));
  EXPECT_FALSE(type_can_hold_text(kUuid));
  std::vector<ColumnMasking> cols{text_col(kNumeric), text_col(kInt8),  text_col(kNumeric),
                                  text_col(kFloat8),  text_col(kMoney), text_col(kInt4)};
  auto r = mask_data_row(data_row({"4111111111111111", "5500000000000004", "4111111111111111.00",
                                   "4.111111111111111e+15", "$4,111,111,111,111,111.00", "42"}),
                         cols, *masker, scratch, counts, out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(out, data_row({"[credit_card]", "[credit_card]", "[credit_card]", "[credit_card]",
                           "[credit_card]", "42"}));
  // Numbers that fail the validators stay.
  std::vector<ColumnMasking> two{text_col(kNumeric), text_col(kInt8)};
  r = mask_data_row(data_row({"4111111111111112", "1234567890123"}), two, *masker, scratch, counts,
                    out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, MaskOutcome::unchanged);
}

TEST_F(DataRowMasking, BinaryNumbersAreDecodedAndRefusedWhenTheyHoldPii) {
  for (uint32_t oid : {kInt2, kInt4, kInt8, kNumeric, kFloat8, kMoney})
    EXPECT_TRUE(binary_format_readable(oid)) << oid;
  std::vector<ColumnMasking> ints{
      text_col(kInt2, FormatCode::binary), text_col(kInt4, FormatCode::binary),
      text_col(kInt8, FormatCode::binary), text_col(kNumeric, FormatCode::binary),
      text_col(kFloat8, FormatCode::binary)};
  const std::string clean =
      data_row({be(7, 2), be(123456, 4), be(4111111111111112ull, 8),
                numeric_binary({12, 5000}, 0, 2), be(0x4045000000000000ull, 8)});  // 42.0
  auto r = mask_data_row(clean, ints, *masker, scratch, counts, out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, MaskOutcome::unchanged);

  std::vector<ColumnMasking> int8{text_col(kInt8, FormatCode::binary)};
  r = mask_data_row(data_row({be(4111111111111111ull, 8)}), int8, *masker, scratch, counts, out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("request text format"), std::string::npos);

  std::vector<ColumnMasking> numeric{text_col(kNumeric, FormatCode::binary)};
  r = mask_data_row(data_row({numeric_binary({4111, 1111, 1111, 1111}, 3, 0)}), numeric, *masker,
                    scratch, counts, out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("binary-format numeric"), std::string::npos);
  // With a scale: 4111111111111111.00 (trailing zero groups are left out of the digits).
  r = mask_data_row(data_row({numeric_binary({4111, 1111, 1111, 1111}, 3, 2)}), numeric, *masker,
                    scratch, counts, out);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(mask_data_row(data_row({"\x01"}), numeric, *masker, scratch, counts, out).ok());

  std::vector<ColumnMasking> float8{text_col(kFloat8, FormatCode::binary)};
  double card = 4111111111111111.0;
  uint64_t bits;
  std::memcpy(&bits, &card, 8);
  EXPECT_FALSE(mask_data_row(data_row({be(bits, 8)}), float8, *masker, scratch, counts, out).ok());
}

TEST_F(DataRowMasking, SkipsBinaryValuesOfTypesThatHoldNoText) {
  std::vector<ColumnMasking> cols{text_col(kUuid, FormatCode::binary)};
  auto r = mask_data_row(data_row({std::string(16, '\x41')}), cols, *masker, scratch, counts, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, MaskOutcome::unchanged);
}

TEST_F(DataRowMasking, ByteaHexIsScannedAsBytes) {
  std::vector<ColumnMasking> cols{text_col(kBytea)};
  // "a@example.com" in hex.
  auto r = mask_data_row(data_row({"\\x61406578616d706c652e636f6d"}), cols, *masker, scratch,
                         counts, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(out, data_row({"\\x5b656d61696c5d"}));  // "[email]"
}

TEST_F(DataRowMasking, WholeValueInAJsonColumnStaysJson) {
  config::MaskingProfileConfig p;
  p.columns = {{"*.secret", "redact", 1}};
  auto m = masking::testing::make_masker(p);
  std::vector<ColumnMasking> cols{{m->plan_column("t", "secret", true), kJsonb, FormatCode::text}};
  ASSERT_TRUE(mask_data_row(data_row({"{\"a\":1}"}), cols, *m, scratch, counts, out).ok());
  EXPECT_EQ(out, data_row({"\"[redacted]\""}));
}

TEST_F(DataRowMasking, RejectsMalformedRows) {
  std::vector<ColumnMasking> cols{text_col()};
  EXPECT_FALSE(mask_data_row("", cols, *masker, scratch, counts, out).ok());
  EXPECT_FALSE(
      mask_data_row(std::string("\0\x01\0\0\0\x09x", 7), cols, *masker, scratch, counts, out).ok());
  EXPECT_FALSE(mask_data_row(data_row({"a", "b"}), cols, *masker, scratch, counts, out).ok());
}

using CopyMasking = Fixture;

TEST_F(CopyMasking, TextFormatWithEscapesAndNull) {
  CopyFormat text;
  auto r = mask_copy_row("1\tbob@example.com\\tx\t\\N\tplain\n", text, {}, *masker, scratch, counts,
                         out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, MaskOutcome::rewritten);
  EXPECT_EQ(out, "1\t[email]\\tx\t\\N\tplain\n");
  EXPECT_EQ(*mask_copy_row("1\tnothing here\n", text, {}, *masker, scratch, counts, out),
            MaskOutcome::unchanged);
}

TEST_F(CopyMasking, CsvWithQuotesAndEmbeddedDelimiters) {
  CopyFormat csv;
  csv.csv = true;
  csv.delimiter = ',';
  csv.null = "";
  auto r = mask_copy_row("7,\"Smith, \"\"Bob\"\" bob@example.com\",,x\r\n", csv, {}, *masker,
                         scratch, counts, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(out, "7,\"Smith, \"\"Bob\"\" [email]\",,x\r\n");
  EXPECT_FALSE(mask_copy_row("\"open", csv, {}, *masker, scratch, counts, out).ok());
}

TEST_F(CopyMasking, ColumnPlansApplyByPosition) {
  config::MaskingProfileConfig p;
  p.columns = {{"*.ssn", "null", 1}};
  auto m = masking::testing::make_masker(p);
  std::vector<ColumnPlan> plans{m->plan_column("", "id", false), m->plan_column("", "ssn", true)};
  CopyFormat text;
  ASSERT_TRUE(mask_copy_row("1\t123-45-6789\n", text, plans, *m, scratch, counts, out).ok());
  EXPECT_EQ(out, "1\t\\N\n");
}

using ErrorFieldMasking = Fixture;

TEST_F(ErrorFieldMasking, MasksDetailAndKeepsOtherFields) {
  std::string body;
  for (auto [code, value] : std::vector<std::pair<char, std::string>>{
           {'S', "ERROR"},
           {'C', "23505"},
           {'M', "duplicate key value violates unique constraint \"users_email_key\""},
           {'D', "Key (email)=(alice@example.com) already exists."}}) {
    body.push_back(code);
    body += value;
    body.push_back('\0');
  }
  body.push_back('\0');
  auto r = mask_error_fields(body, *masker, scratch, counts, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, MaskOutcome::rewritten);
  const std::string expected_tail =
      std::string("DKey (email)=([email]) already exists.") + '\0' + '\0';
  EXPECT_TRUE(out.ends_with(expected_tail));
  EXPECT_TRUE(out.starts_with(std::string("SERROR") + '\0' + "C23505"));
  EXPECT_FALSE(mask_error_fields("Mx", *masker, scratch, counts, out).ok());
}

TEST_F(ErrorFieldMasking, MasksInternalQueryAndIdentifierFields) {
  std::string body;
  for (auto [code, value] : std::vector<std::pair<char, std::string>>{
           {'S', "ERROR"},
           {'V', "ERROR"},
           {'C', "42P01"},
           {'q', "SELECT * FROM t WHERE email = 'bob@example.com'"},
           {'s', "bob@example.com"},
           {'t', "t 4111111111111111"},
           {'c', "carol@example.com"},
           {'d', "dom 123-45-6789"},
           {'n', "key for dave@example.com"},
           {'P', "12"},
           {'F', "parse_relation.c"},
           {'L', "1392"},
           {'R', "parserOpenTable"}}) {
    body.push_back(code);
    body += value;
    body.push_back('\0');
  }
  body.push_back('\0');
  auto r = mask_error_fields(body, *masker, scratch, counts, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, MaskOutcome::rewritten);
  for (std::string_view leaked : {"bob@", "4111111111111111", "carol@", "123-45-6789", "dave@"})
    EXPECT_EQ(out.find(leaked), std::string::npos) << leaked;
  EXPECT_NE(out.find(std::string("qSELECT * FROM t WHERE email = '[email]'") + '\0'),
            std::string::npos);
  EXPECT_NE(out.find(std::string("s[email]") + '\0'), std::string::npos);
  EXPECT_NE(out.find(std::string("Fparse_relation.c") + '\0' + "L1392"), std::string::npos);
  EXPECT_NE(out.find(std::string("P12") + '\0'), std::string::npos);
}

std::string notification(uint32_t pid, std::string_view channel, std::string_view payload) {
  std::string out;
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(pid >> s));
  out += channel;
  out.push_back('\0');
  out += payload;
  out.push_back('\0');
  return out;
}

TEST_F(ErrorFieldMasking, MasksNotificationChannelAndPayload) {
  auto r = mask_notification(notification(4242, "orders", "{\"email\":\"a@example.com\"}"), *masker,
                             scratch, counts, out);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, MaskOutcome::rewritten);
  EXPECT_EQ(out, notification(4242, "orders", "{\"email\":\"[email]\"}"));
  r = mask_notification(notification(1, "user:bob@example.com", "x"), *masker, scratch, counts,
                        out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(out, notification(1, "user:[email]", "x"));
  out = "untouched";
  r = mask_notification(notification(1, "jobs", "done"), *masker, scratch, counts, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, MaskOutcome::unchanged);
  EXPECT_EQ(out, "untouched");
  EXPECT_FALSE(mask_notification("\0\0", *masker, scratch, counts, out).ok());
  EXPECT_FALSE(
      mask_notification(std::string("\0\0\0\x01chan", 8), *masker, scratch, counts, out).ok());
  EXPECT_FALSE(
      mask_notification(notification(1, "a", "b") + "x", *masker, scratch, counts, out).ok());
}

TEST_F(ErrorFieldMasking, MasksParameterStatusValue) {
  const auto status = [](std::string_view name, std::string_view value) {
    std::string out(name);
    out.push_back('\0');
    out += value;
    out.push_back('\0');
    return out;
  };
  auto r = mask_parameter_status(status("application_name", "etl for alice@example.com"), *masker,
                                 scratch, counts, false, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, MaskOutcome::rewritten);
  EXPECT_EQ(out, status("application_name", "etl for [email]"));
  r = mask_parameter_status(status("TimeZone", "UTC"), *masker, scratch, counts, false, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, MaskOutcome::unchanged);
  r = mask_parameter_status(status("search_path", "tenant_42"), *masker, scratch, counts, true,
                            out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, MaskOutcome::rewritten);
  EXPECT_EQ(out, status("search_path", "[redacted]"));
  EXPECT_FALSE(mask_parameter_status("name", *masker, scratch, counts, false, out).ok());
  EXPECT_FALSE(
      mask_parameter_status(std::string("a\0b", 3), *masker, scratch, counts, false, out).ok());
}

}  // namespace
TEST(CopyRowValuesTest, ReadsTextAndCsvRowsLikeTheirHeaders) {
  CopyFormat csv;
  csv.csv = true;
  csv.delimiter = ',';
  csv.null = "";
  auto names = copy_row_values("id,\"full name\",\"a,b\"\r\n", csv);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"id", "full name", "a,b"}));
  CopyFormat text;
  auto values = copy_row_values("1\tx\\ty\n", text);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"1", "x\ty"}));
  EXPECT_FALSE(copy_row_values("\"unterminated\n", csv).ok());
}

}  // namespace portcullis::proto::postgres
