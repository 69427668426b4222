#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "mysql_readings.h"
#include "sql/mysql/lexer.h"

namespace portcullis::sql::mysql {
namespace {

std::string_view kind_name(TokenKind k) {
  switch (k) {
    case TokenKind::word:
      return "w";
    case TokenKind::quoted_identifier:
      return "qi";
    case TokenKind::string:
      return "s";
    case TokenKind::national_string:
      return "ns";
    case TokenKind::hex_string:
      return "hex";
    case TokenKind::bit_string:
      return "bit";
    case TokenKind::number:
      return "n";
    case TokenKind::introducer:
      return "intro";
    case TokenKind::user_variable:
      return "uv";
    case TokenKind::at_at:
      return "@@";
    case TokenKind::placeholder:
      return "?";
    case TokenKind::null_escape:
      return "null";
    case TokenKind::punctuation:
      return "p";
    case TokenKind::semicolon:
      return ";";
    case TokenKind::end:
      return "end";
    case TokenKind::error:
      return "error";
  }
  return "?";
}

// Tokens as "kind:text" joined by spaces; "error" ends the list when lexing fails.
std::string lex(std::string_view sql, const Reading& reading = {}) {
  Lexer lexer(sql, reading);
  std::string out;
  for (int i = 0; i < 1000; ++i) {
    Token t = lexer.next();
    if (t.kind == TokenKind::end) break;
    if (!out.empty()) out += ' ';
    if (t.kind == TokenKind::error) {
      out += "error";
      break;
    }
    out += kind_name(t.kind);
    out += ':';
    out += t.text;
  }
  return out;
}

Reading mariadb(uint32_t version = 101104) {
  return Reading{.no_backslash_escapes = false,
                 .ansi_quotes = false,
                 .mariadb = true,
                 .server_version = version};
}

struct LexerCase {
  std::string_view sql;
  Reading reading;
  std::string_view tokens;
};

TEST(MysqlLexerTest, CutsTokensAsTheServerDoes) {
  const LexerCase cases[] = {
      {"SELECT 1", {}, "w:SELECT n:1"},
      {"select a.b, `c``d` FROM t", {}, "w:select w:a p:. w:b p:, qi:`c``d` w:FROM w:t"},
      // -- needs a space or control character after it; 1--1 is arithmetic.
      {"SELECT 1--1", {}, "w:SELECT n:1 p:- p:- n:1"},
      {"SELECT 1 -- x\n, 2", {}, "w:SELECT n:1 p:, n:2"},
      {"SELECT 1 --\tx\n, 2", {}, "w:SELECT n:1 p:, n:2"},
      {"SELECT 1 --", {}, "w:SELECT n:1"},
      {"SELECT 1 # comment ; DROP\n, 2", {}, "w:SELECT n:1 p:, n:2"},
      {"SELECT /* ; */ 1", {}, "w:SELECT n:1"},
      {"DELETE/**/FROM t", {}, "w:DELETE w:FROM w:t"},
      // Ordinary comments do not nest: the first */ ends it.
      {"SELECT /* /* */ 1 */", {}, "w:SELECT n:1 p:* p:/"},
      // Executable comments are code.
      {"SELECT 1 /*! , 2 */", mysql8(), "w:SELECT n:1 p:, n:2"},
      {"SELECT 1 /*!50000 , 2 */", mysql8(), "w:SELECT n:1 p:, n:2"},
      {"SELECT 1 /*!80036 , 2 */", mysql8(), "w:SELECT n:1 p:, n:2"},
      {"SELECT 1 /*!80037 , 2 */", mysql8(), "w:SELECT n:1"},
      {"SELECT 1 /*!99999 , 2 */", mysql8(), "w:SELECT n:1"},
      // A skipped versioned comment may hold one nested comment.
      {"SELECT 1 /*!99999 /* x */ , 2 */ , 3", mysql8(), "w:SELECT n:1 p:, n:3"},
      // MariaDB reads six digits and skips MySQL 5.7+ versions unless written /*M!.
      {"SELECT 1 /*!100000 , 2 */", mariadb(), "w:SELECT n:1 p:, n:2"},
      {"SELECT 1 /*!101105 , 2 */", mariadb(), "w:SELECT n:1"},
      {"SELECT 1 /*!50700 , 2 */", mariadb(), "w:SELECT n:1"},
      {"SELECT 1 /*!50699 , 2 */", mariadb(), "w:SELECT n:1 p:, n:2"},
      {"SELECT 1 /*M!50700 , 2 */", mariadb(), "w:SELECT n:1 p:, n:2"},
      {"SELECT 1 /*M! , 2 */", mariadb(), "w:SELECT n:1 p:, n:2"},
      {"SELECT 1 /*M!100000 , 2 */", mariadb(), "w:SELECT n:1 p:, n:2"},
      {"SELECT 1 /*M!101200 , 2 */", mariadb(), "w:SELECT n:1"},
      {"SELECT 1 /*M! , 2 */", mysql8(), "w:SELECT n:1"},
      {"SELECT 1 /*M!50000 , 2 */", mysql8(), "w:SELECT n:1"},
      // Optimizer hints are comments to the classifier.
      {"SELECT /*+ BKA(t) */ 1", {}, "w:SELECT n:1"},
      // A semicolon inside an executable comment splits; the next statement starts afresh.
      {"SELECT 1 /*! ; DROP TABLE t */", {}, "w:SELECT n:1 ;:; w:DROP w:TABLE w:t p:* p:/"},
      // Strings: backslash escapes, doubled quotes.
      {R"(SELECT 'a\'b', 'c''d', "e\"f")", {}, R"(w:SELECT s:'a\'b' p:, s:'c''d' p:, s:"e\"f")"},
      {R"(SELECT '\\'; DROP)", {}, R"(w:SELECT s:'\\' ;:; w:DROP)"},
      {R"(SELECT '\'; DROP TABLE t; -- ')", {}, R"(w:SELECT s:'\'; DROP TABLE t; -- ')"},
      {R"(SELECT '\'; DROP TABLE t; -- ')", no_backslash(),
       R"(w:SELECT s:'\' ;:; w:DROP w:TABLE w:t ;:;)"},
      // "..." is an identifier under ANSI_QUOTES, a string otherwise.
      {R"(SELECT "a" FROM t)", {}, R"(w:SELECT s:"a" w:FROM w:t)"},
      {R"(SELECT "a" FROM t)", ansi(), R"(w:SELECT qi:"a" w:FROM w:t)"},
      {R"(SELECT "a\" FROM t)", ansi(), R"(w:SELECT qi:"a\" w:FROM w:t)"},
      {"SELECT `a\\` FROM t", {}, "w:SELECT qi:`a\\` w:FROM w:t"},
      // Literals.
      {"SELECT _utf8mb4'x', _binary 'y', _latin1 0x41, _nocharset",
       {},
       "w:SELECT intro:_utf8mb4 s:'x' p:, intro:_binary s:'y' p:, intro:_latin1 hex:0x41 p:, "
       "w:_nocharset"},
      {"SELECT X'4142', x'', B'01', 0x4142, 0b01, N'n'",
       {},
       "w:SELECT hex:X'4142' p:, hex:x'' p:, bit:B'01' p:, hex:0x4142 p:, bit:0b01 p:, ns:N'n'"},
      {"SELECT 0x, 0xg, 1e5, 1e+5, 1e, 1ex, 123abc, .5, 1.5e-3",
       {},
       "w:SELECT w:0x p:, w:0xg p:, n:1e5 p:, n:1e+5 p:, w:1e p:, w:1ex p:, w:123abc p:, n:.5 p:, "
       "n:1.5e-3"},
      {"SELECT t.1col, db.t.5 FROM db.1t",
       {},
       "w:SELECT w:t p:. w:1col p:, w:db p:. w:t p:. w:5 w:FROM w:db p:. w:1t"},
      {"SELECT @a, @'b c', @`d`, @@global.x, @@session . y, ?, \\N",
       {},
       "w:SELECT uv:@a p:, uv:@'b c' p:, uv:@`d` p:, @@:@@ w:global p:. w:x p:, @@:@@ w:session "
       "p:. "
       "w:y p:, ?:? p:, null:\\N"},
      {"SELECT a<=>b, c:=d, e->>'$.f', g!=h",
       {},
       "w:SELECT w:a p:<=> w:b p:, w:c p::= w:d p:, w:e p:->> s:'$.f' p:, w:g p:!= w:h"},
      // Identifiers may hold any multi-byte character.
      {"SELECT \xc3\xa9t\xc3\xa9 FROM \xe8\xa1\xa8",
       {},
       "w:SELECT w:\xc3\xa9t\xc3\xa9 w:FROM w:\xe8\xa1\xa8"},
  };
  for (const LexerCase& c : cases) EXPECT_EQ(lex(c.sql, c.reading), c.tokens) << c.sql;
}

TEST(MysqlLexerTest, RefusesTextItCannotCut) {
  const LexerCase cases[] = {
      {"SELECT 'abc", {}, ""},
      {"SELECT 'abc\\'", {}, ""},
      {"SELECT \"abc", {}, ""},
      {"SELECT `abc", {}, ""},
      {"SELECT /* abc", {}, ""},
      {"SELECT 1 /*! , 2", {}, ""},
      {"SELECT 1 /*!99999 /* x */ , 2", mysql8(), ""},
      {"SELECT X'4'", {}, ""},
      {"SELECT X'4G'", {}, ""},
      {"SELECT B'2'", {}, ""},
      {std::string_view("SELECT 1\0", 9), {}, ""},
      {std::string_view("SELECT 1 # x\0 y", 15), {}, ""},
      {std::string_view("SELECT `a\0b`", 12), {}, ""},
  };
  for (const LexerCase& c : cases) {
    const std::string tokens = lex(c.sql, c.reading);
    EXPECT_TRUE(tokens.ends_with("error")) << c.sql << " gave " << tokens;
  }
  // A NUL inside a string is data.
  EXPECT_EQ(lex(std::string_view("SELECT 'a\0b'", 12)), std::string("w:SELECT s:'a\0b'", 16));
}

TEST(MysqlLexerTest, DecodesStringsAndIdentifiers) {
  Lexer lexer(R"('a\'b''c\n\%' `x``y` "q""r")", Reading{});
  Token s = lexer.next();
  EXPECT_EQ(string_value(s, Reading{}), "a'b'c\n\\%");
  Token q = lexer.next();
  EXPECT_EQ(identifier_value(q), "x`y");
  Token d = lexer.next();
  EXPECT_EQ(string_value(d, Reading{}), "q\"r");
  Lexer plain(R"('a\\b')", no_backslash());
  EXPECT_EQ(string_value(plain.next(), no_backslash()), "a\\\\b");
}

TEST(MysqlLexerTest, KnowsCharsetNames) {
  EXPECT_TRUE(is_charset_name("utf8mb4"));
  EXPECT_TRUE(is_charset_name("UTF8MB4"));
  EXPECT_TRUE(is_charset_name("binary"));
  EXPECT_FALSE(is_charset_name("utf9"));
  EXPECT_FALSE(is_charset_name(""));
}

}  // namespace
}  // namespace portcullis::sql::mysql
