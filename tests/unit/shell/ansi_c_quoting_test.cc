#include "shell/ansi_c_quoting.h"

#include <gtest/gtest.h>

#include <string>

namespace portcullis::shell {
namespace {

std::string decode(std::string_view quoted) {
  std::string out;
  std::size_t end = decode_ansi_c_quote(quoted, 0, out);
  EXPECT_EQ(end, quoted.size()) << quoted;
  return out;
}

TEST(AnsiCQuoting, DecodesTheCEscapes) {
  EXPECT_EQ(decode(R"(a\nb\tc\\d\'e\"f')"), "a\nb\tc\\d'e\"f");
  EXPECT_EQ(decode(R"(\a\b\e\E\f\r\v\?')"), "\a\b\x1b\x1b\f\r\v?");
}

TEST(AnsiCQuoting, DecodesHexOctalAndUnicode) {
  EXPECT_EQ(decode(R"(\x72m')"), "rm");
  EXPECT_EQ(decode(R"(\162\155')"), "rm");
  EXPECT_EQ(decode(R"(\x7')"), "\x07");
  EXPECT_EQ(decode(R"(\u00e9\U0001F600')"), "\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(decode(R"(\cA')"), "\x01");
}

TEST(AnsiCQuoting, KeepsUnknownEscapesAsWritten) {
  EXPECT_EQ(decode(R"(\q\x')"), "\\q\\x");
}

TEST(AnsiCQuoting, ANulByteEndsTheValue) {
  EXPECT_EQ(decode(R"(rm\x00 -rf')"), "rm");
  EXPECT_EQ(decode(R"(a\0b')"), "a");
}

TEST(AnsiCQuoting, ReportsAMissingClosingQuote) {
  std::string out;
  EXPECT_EQ(decode_ansi_c_quote("abc", 0, out), std::string_view::npos);
  EXPECT_EQ(decode_ansi_c_quote("abc\\'", 0, out), std::string_view::npos);
}

}  // namespace
}  // namespace portcullis::shell
