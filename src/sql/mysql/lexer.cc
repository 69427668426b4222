// The MySQL/MariaDB lexer, state for state after the servers' sql_lex.cc (MySQL 8.0,
// MariaDB 10.11): the places where a quote, a comment or a version number could make the
// gateway and the backend see different statements follow the server's code, not its manual.
#include "sql/mysql/lexer.h"

#include <algorithm>
#include <array>
#include <iterator>

namespace portcullis::sql::mysql {

namespace {

enum CharClass : uint8_t {
  kIdent = 1u << 0,  // ident_map: letters, digits, _, $, bytes >= 0x80 (multi-byte characters)
  kDigit = 1u << 1,
  kHex = 1u << 2,
  kSpace = 1u << 3,    // my_isspace: ' ', \t, \n, \v, \f, \r
  kCntrl = 1u << 4,    // my_iscntrl: 0x00-0x1f, 0x7f
  kVarName = 1u << 5,  // an unquoted user variable's name (MY_LEX_HOSTNAME): alnum . _ $
};

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha || digit || c == '_' || c == '$' || c >= 0x80) v |= kIdent;
    if (digit) v |= kDigit;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
    if (c == ' ' || (c >= '\t' && c <= '\r')) v |= kSpace;
    if (c < 0x20 || c == 0x7f) v |= kCntrl;
    if (alpha || digit || c == '.' || c == '_' || c == '$' || c >= 0x80) v |= kVarName;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}

constexpr std::array<uint8_t, 256> kClasses = make_classes();

inline bool is(char c, CharClass cls) {
  return (kClasses[static_cast<unsigned char>(c)] & cls) != 0;
}

// Character sets of MySQL 8.0 and MariaDB 10.11 (SHOW CHARACTER SET), for introducers
// (_utf8mb4'x'). Sorted.
constexpr std::string_view kCharsets[] = {
    "armscii8", "ascii",   "big5",     "binary", "cp1250",  "cp1251",  "cp1256",
    "cp1257",   "cp850",   "cp852",    "cp866",  "cp932",   "dec8",    "eucjpms",
    "euckr",    "gb18030", "gb2312",   "gbk",    "geostd8", "greek",   "hebrew",
    "hp8",      "keybcs2", "koi8r",    "koi8u",  "latin1",  "latin2",  "latin5",
    "latin7",   "macce",   "macroman", "sjis",   "swe7",    "tis620",  "ucs2",
    "ujis",     "utf16",   "utf16le",  "utf32",  "utf8",    "utf8mb3", "utf8mb4",
};

// Operators of more than one character, longest first where one is a prefix of another.
constexpr std::string_view kOperators[] = {
    "<=>", "->>", "<=", ">=", "<>", "!=", ":=", "||", "&&", "<<", ">>", "->",
};

}  // namespace

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_charset_name(std::string_view name) {
  if (name.empty() || name.size() > 16) return false;
  const std::string lower = to_lower(name);
  return std::binary_search(std::begin(kCharsets), std::end(kCharsets), std::string_view(lower));
}

Token Lexer::fail(std::string_view why) {
  failed_ = true;
  error_ = why;
  return Token{TokenKind::error, sql_.substr(std::min(pos_, sql_.size()), 0)};
}

bool Lexer::consume_comment(int nesting) {
  const std::size_t n = sql_.size();
  while (pos_ < n) {
    const char c = sql_[pos_++];
    if (nesting > 0 && c == '/' && pos_ < n && sql_[pos_] == '*') {
      ++pos_;
      consume_comment(nesting - 1);
      continue;
    }
    if (c == '*' && pos_ < n && sql_[pos_] == '/') {
      ++pos_;
      return true;
    }
  }
  return false;
}

bool Lexer::open_block_comment() {
  const std::size_t n = sql_.size();
  std::size_t p = pos_ + 2;
  // MariaDB's /*M! is its own executable comment; MySQL reads it as an ordinary comment.
  const bool maria = reading_.mariadb && p + 1 < n && sql_[p] == 'M' && sql_[p + 1] == '!';
  if (!maria && !(p < n && sql_[p] == '!')) {
    pos_ = p;
    return consume_comment(0);
  }
  p += maria ? 2 : 1;
  bool versioned = p + 5 <= n;
  for (std::size_t i = 0; versioned && i < 5; ++i) versioned = is(sql_[p + i], kDigit);
  if (!versioned) {
    // /*! text */: the text is code on every version.
    pos_ = p;
    in_executable_comment_ = true;
    return true;
  }
  // MySQL reads exactly five digits; MariaDB a sixth when there is one (100000 = 10.0.0).
  std::size_t length = 5;
  if (reading_.mariadb && p + 5 < n && is(sql_[p + 5], kDigit)) length = 6;
  uint32_t version = 0;
  for (std::size_t i = 0; i < length; ++i) {
    version = version * 10 + static_cast<uint32_t>(sql_[p + i] - '0');
  }
  // MariaDB skips /*!NNNNN with MySQL 5.7+ versions (50700-99999), which name MySQL syntax it
  // may not have, but not /*M!NNNNN.
  bool runs = version <= reading_.server_version;
  if (runs && reading_.mariadb && !maria && version >= 50700 && version <= 99999) runs = false;
  if (runs) {
    pos_ = p + length;
    in_executable_comment_ = true;
    return true;
  }
  // A comment that does not run may hold one level of /* */ inside.
  pos_ = p;
  return consume_comment(1);
}

bool Lexer::skip_space_and_comments() {
  const std::size_t n = sql_.size();
  while (pos_ < n) {
    const char c = sql_[pos_];
    if (is(c, kSpace)) {
      ++pos_;
      continue;
    }
    const char next = pos_ + 1 < n ? sql_[pos_ + 1] : '\0';
    // "--" starts a comment only before a space or control character (the end of the text
    // counts as one: the server reads a NUL there): 1--1 is arithmetic.
    const bool dash_comment =
        c == '-' && next == '-' &&
        (pos_ + 2 >= n || is(sql_[pos_ + 2], kSpace) || is(sql_[pos_ + 2], kCntrl));
    if (c == '#' || dash_comment) {
      // The server's line comment ends at a newline or a NUL byte.
      while (pos_ < n && sql_[pos_] != '\n' && sql_[pos_] != '\0') ++pos_;
      continue;
    }
    if (c == '/' && next == '*') {
      if (!open_block_comment()) return false;
      continue;
    }
    if (c == '*' && next == '/' && in_executable_comment_) {
      pos_ += 2;
      in_executable_comment_ = false;
      continue;
    }
    break;
  }
  return true;
}

bool Lexer::quoted(char quote, bool backslash_escapes) {
  const std::size_t n = sql_.size();
  ++pos_;
  while (pos_ < n) {
    const char c = sql_[pos_++];
    if (backslash_escapes && c == '\\') {
      if (pos_ >= n) return false;
      ++pos_;
      continue;
    }
    if (c == quote) {
      if (pos_ < n && sql_[pos_] == quote) {
        ++pos_;
        continue;
      }
      return true;
    }
  }
  return false;
}

Token Lexer::identifier_from(std::size_t begin) {
  while (pos_ < sql_.size() && is(sql_[pos_], kIdent)) ++pos_;
  Token t = make(TokenKind::word, begin);
  dot_after_identifier_ = pos_ + 1 < sql_.size() && sql_[pos_] == '.' && is(sql_[pos_ + 1], kIdent);
  return t;
}

Token Lexer::word_or_number(std::size_t begin) {
  const std::size_t n = sql_.size();
  const char first = sql_[begin];
  if (is(first, kDigit)) {
    if (first == '0' && begin + 1 < n && (sql_[begin + 1] == 'x' || sql_[begin + 1] == 'b')) {
      const bool hex = sql_[begin + 1] == 'x';
      std::size_t p = begin + 2;
      while (p < n && (hex ? is(sql_[p], kHex) : (sql_[p] == '0' || sql_[p] == '1'))) ++p;
      if (p > begin + 2 && (p >= n || !is(sql_[p], kIdent))) {
        pos_ = p;
        return make(hex ? TokenKind::hex_string : TokenKind::bit_string, begin);
      }
      pos_ = begin;
      return identifier_from(begin);
    }
    std::size_t p = begin;
    while (p < n && is(sql_[p], kDigit)) ++p;
    if (p < n && (sql_[p] == 'e' || sql_[p] == 'E')) {
      // 1e5, 1e+5 are numbers; 1e, 1ex, 1e+ are an identifier (then +).
      std::size_t q = p + 1;
      if (q < n && (sql_[q] == '+' || sql_[q] == '-')) ++q;
      if (q < n && is(sql_[q], kDigit)) {
        while (q < n && is(sql_[q], kDigit)) ++q;
        pos_ = q;
        return make(TokenKind::number, begin);
      }
    }
    if (p < n && is(sql_[p], kIdent)) {
      pos_ = begin;
      return identifier_from(begin);  // 123abc is an identifier
    }
    if (p < n && sql_[p] == '.') {
      ++p;
      while (p < n && is(sql_[p], kDigit)) ++p;
      if (p < n && (sql_[p] == 'e' || sql_[p] == 'E')) {
        std::size_t q = p + 1;
        if (q < n && (sql_[q] == '+' || sql_[q] == '-')) ++q;
        if (q < n && is(sql_[q], kDigit)) {
          while (q < n && is(sql_[q], kDigit)) ++q;
          p = q;
        }
      }
    }
    pos_ = p;
    return make(TokenKind::number, begin);
  }
  // N'..', X'..', B'..'
  if (begin + 1 < n && sql_[begin + 1] == '\'') {
    if (first == 'N' || first == 'n') {
      pos_ = begin + 1;
      if (!quoted('\'', !reading_.no_backslash_escapes)) return fail("unterminated string");
      return make(TokenKind::national_string, begin);
    }
    const bool hex = first == 'X' || first == 'x';
    const bool bits = first == 'B' || first == 'b';
    if (hex || bits) {
      std::size_t p = begin + 2;
      while (p < n && (hex ? is(sql_[p], kHex) : (sql_[p] == '0' || sql_[p] == '1'))) ++p;
      if (p >= n || sql_[p] != '\'') {
        pos_ = p;
        return fail(hex ? "invalid hexadecimal literal" : "invalid bit literal");
      }
      if (hex && (p - begin - 2) % 2 != 0) {
        pos_ = p;
        return fail("hexadecimal literal of an odd number of digits");
      }
      pos_ = p + 1;
      return make(hex ? TokenKind::hex_string : TokenKind::bit_string, begin);
    }
  }
  pos_ = begin;
  Token t = identifier_from(begin);
  if (t.text.size() > 1 && t.text[0] == '_' && is_charset_name(t.text.substr(1))) {
    t.kind = TokenKind::introducer;
    dot_after_identifier_ = false;
  }
  return t;
}

Token Lexer::next() {
  if (failed_) return Token{TokenKind::end, sql_.substr(sql_.size())};
  const std::size_t n = sql_.size();
  if (dot_after_identifier_) {
    // Directly after an identifier: this is its '.', and a name follows it.
    dot_after_identifier_ = false;
    identifier_follows_dot_ = true;
    ++pos_;
    return make(TokenKind::punctuation, pos_ - 1);
  }
  if (identifier_follows_dot_) {
    identifier_follows_dot_ = false;
    const std::size_t begin = pos_;
    if (pos_ < n && is(sql_[pos_], kIdent)) return identifier_from(begin);
  }
  if (!skip_space_and_comments()) return fail("unterminated comment");
  if (pos_ >= n) {
    // A statement may not end inside an executable comment (the server's ABORT_SYM).
    if (in_executable_comment_) return fail("unterminated comment");
    return Token{TokenKind::end, sql_.substr(n)};
  }
  const std::size_t begin = pos_;
  const char c = sql_[pos_];
  const char next = pos_ + 1 < n ? sql_[pos_ + 1] : '\0';
  if (c == '\'' || (c == '"' && !reading_.ansi_quotes)) {
    if (!quoted(c, !reading_.no_backslash_escapes)) return fail("unterminated string");
    return make(TokenKind::string, begin);
  }
  if (c == '`' || c == '"') {
    if (!quoted(c, false)) return fail("unterminated quoted identifier");
    Token t = make(TokenKind::quoted_identifier, begin);
    if (t.text.find('\0') != std::string_view::npos) return fail("NUL in a quoted identifier");
    dot_after_identifier_ = pos_ + 1 < n && sql_[pos_] == '.' && is(sql_[pos_ + 1], kIdent);
    return t;
  }
  if (is(c, kIdent)) return word_or_number(begin);
  if (c == '.' && is(next, kDigit)) {
    ++pos_;
    while (pos_ < n && is(sql_[pos_], kDigit)) ++pos_;
    if (pos_ < n && (sql_[pos_] == 'e' || sql_[pos_] == 'E')) {
      std::size_t q = pos_ + 1;
      if (q < n && (sql_[q] == '+' || sql_[q] == '-')) ++q;
      if (q < n && is(sql_[q], kDigit)) {
        while (q < n && is(sql_[q], kDigit)) ++q;
        pos_ = q;
      }
    }
    return make(TokenKind::number, begin);
  }
  if (c == '@') {
    if (next == '@') {
      pos_ += 2;
      return make(TokenKind::at_at, begin);
    }
    ++pos_;
    if (next == '\'' || next == '"' || next == '`') {
      const bool string = next == '\'' || (next == '"' && !reading_.ansi_quotes);
      if (!quoted(next, string && !reading_.no_backslash_escapes)) {
        return fail("unterminated quoted variable name");
      }
    } else {
      while (pos_ < n && is(sql_[pos_], kVarName)) ++pos_;
    }
    return make(TokenKind::user_variable, begin);
  }
  if (c == ';') {
    // The server lexes each statement of a multi-statement text afresh.
    in_executable_comment_ = false;
    ++pos_;
    return make(TokenKind::semicolon, begin);
  }
  if (c == '?') {
    ++pos_;
    return make(TokenKind::placeholder, begin);
  }
  if (c == '\0') return fail("NUL byte outside a string");
  if (c == '\\' && next == 'N') {
    pos_ += 2;
    return make(TokenKind::null_escape, begin);
  }
  for (std::string_view op : kOperators) {
    if (sql_.substr(pos_, op.size()) == op) {
      pos_ += op.size();
      return make(TokenKind::punctuation, begin);
    }
  }
  ++pos_;
  return make(TokenKind::punctuation, begin);
}

std::string string_value(const Token& token, const Reading& reading) {
  std::string_view text = token.text;
  if (token.kind == TokenKind::national_string) text.remove_prefix(1);
  if (token.kind == TokenKind::user_variable) text.remove_prefix(1);
  if (text.size() < 2) return std::string(text);
  const char quote = text.front();
  if (quote != '\'' && quote != '"' && quote != '`') return std::string(text);
  text = text.substr(1, text.size() - 2);
  const bool escapes = quote != '`' && !reading.no_backslash_escapes;
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (escapes && c == '\\' && i + 1 < text.size()) {
      const char e = text[++i];
      switch (e) {
        case '0':
          out.push_back('\0');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'Z':
          out.push_back('\x1a');
          break;
        // \% and \_ keep their backslash: they are LIKE escapes.
        case '%':
        case '_':
          out.push_back('\\');
          out.push_back(e);
          break;
        default:
          out.push_back(e);
          break;
      }
      continue;
    }
    if (c == quote && i + 1 < text.size() && text[i + 1] == quote) ++i;
    out.push_back(c);
  }
  return out;
}

std::string identifier_value(const Token& token) {
  std::string_view text = token.text;
  if (token.kind != TokenKind::quoted_identifier || text.size() < 2) return std::string(text);
  const char quote = text.front();
  text = text.substr(1, text.size() - 2);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == quote && i + 1 < text.size() && text[i + 1] == quote) ++i;
    out.push_back(text[i]);
  }
  return out;
}

}  // namespace portcullis::sql::mysql
