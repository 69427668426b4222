#include "proto/postgres/error_redaction.h"

#include <gtest/gtest.h>

#include <string>

namespace portcullis::proto::postgres {
namespace {

using namespace std::string_literals;

std::string field(char code, const std::string& value) {
  return code + value + '\0';
}

TEST(RedactErrorValues, ReplacesTheQuotedValueOfTheMessage) {
  const auto body = field('S', "ERROR") + field('C', "22P02") +
                    field('M', "invalid input syntax for type integer: \"x9$secret\"") +
                    field('F', "numutils.c") + '\0';
  std::string out;
  ASSERT_TRUE(redact_error_values(body, out));
  EXPECT_EQ(out, field('S', "ERROR") + field('C', "22P02") +
                     field('M', "invalid input syntax for type integer: \"***\"") +
                     field('F', "numutils.c") + '\0');
}

TEST(RedactErrorValues, CoversQuotesInsideTheValue) {
  const auto body = field('M', "invalid input syntax for type date: \"a \"quoted\" value\"") + '\0';
  std::string out;
  ASSERT_TRUE(redact_error_values(body, out));
  EXPECT_EQ(out.find("quoted"), std::string::npos);
  EXPECT_EQ(out.find("value"), std::string::npos);
}

TEST(RedactErrorValues, LeavesOutDetailHintContextAndInternalQuery) {
  const auto body = field('M', "duplicate key value violates unique constraint \"k\"") +
                    field('D', "Key (email)=(ada@example.com) already exists.") +
                    field('H', "hint with ada") + field('W', "SQL function \"f\" ada") +
                    field('q', "select 'ada'") + field('n', "k") + field('Z', "unknown ada") + '\0';
  std::string out;
  ASSERT_TRUE(redact_error_values(body, out));
  EXPECT_EQ(out.find("ada"), std::string::npos) << out;
  EXPECT_NE(out.find("duplicate key value"), std::string::npos);
  EXPECT_NE(out.find(field('n', "k")), std::string::npos);
}

TEST(RedactErrorValues, KeepsAMessageWithoutQuotes) {
  const auto body = field('M', "division by zero") + '\0';
  std::string out;
  ASSERT_TRUE(redact_error_values(body, out));
  EXPECT_EQ(out, body);
}

TEST(RedactErrorValues, RefusesMalformedBodies) {
  std::string out;
  EXPECT_FALSE(redact_error_values("Mno terminator", out));
  EXPECT_FALSE(redact_error_values("", out));
  EXPECT_FALSE(redact_error_values(field('M', "x") + '\0' + "trailing", out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace portcullis::proto::postgres
