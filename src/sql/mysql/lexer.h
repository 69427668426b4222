// The MySQL/MariaDB lexer: SQL text in, tokens out, cut exactly where the server's own lexer
// (sql/sql_lex.cc, MySQL 8.0 and MariaDB 10.6+) cuts them, so that comments, quotes and
// executable comments hide nothing from the classifier. Pure: no allocation per token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace portcullis::sql::mysql {

// How the backend will read the text: its sql_mode flags and which server it is. The
// classifier must read text as the backend does, or a quote or comment could mean different
// things to the two.
struct Reading {
  bool no_backslash_escapes = false;  // sql_mode NO_BACKSLASH_ESCAPES: '\' is an ordinary char
  bool ansi_quotes = false;           // sql_mode ANSI_QUOTES: "x" is an identifier
  bool mariadb = true;                // MariaDB runs /*M! ... */; MySQL reads it as a comment
  // The backend's version as MYSQL_VERSION_ID: major * 10000 + minor * 100 + patch
  // (MariaDB 10.11.4 = 101104, MySQL 8.0.36 = 80036). Versioned comments /*!NNNNN ... */ run
  // when it is at least NNNNN.
  uint32_t server_version = 101100;
};

enum class TokenKind : uint8_t {
  word,               // unquoted identifier or keyword: letters, digits, _, $, bytes >= 0x80
  quoted_identifier,  // `name`, or "name" under ANSI_QUOTES; the text keeps the quotes
  string,             // 'text' or "text"; the text keeps the quotes
  national_string,    // N'text'
  hex_string,         // X'4142', 0x4142
  bit_string,         // B'0101', 0b0101
  number,             // 12, 1.5, .5, 1e5
  introducer,         // _utf8mb4 (a character set name before a literal: _utf8mb4'x')
  user_variable,      // @name, @'name', @`name`, @"name"
  at_at,              // @@: a system variable's name follows ([global|session|...] . name)
  placeholder,        // ?
  null_escape,        // \N: NULL
  punctuation,        // operators and ( ) , . = : one token per operator ("<=>", ":=", "(")
  semicolon,          // ; ends a statement (the server's multi-statement split)
  end,                // end of text
  error,              // unterminated string, identifier or comment, or a NUL byte outside one
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string_view text;  // a view into the lexed text
};

class Lexer {
 public:
  Lexer(std::string_view sql, const Reading& reading) : sql_(sql), reading_(reading) {}

  // The next token; kind end at the end of the text and for ever after, kind error (then end)
  // when the text cannot be lexed, with error() saying why.
  Token next();

  std::string_view error() const { return error_; }
  // Offset of `token` in the lexed text.
  std::size_t offset(const Token& token) const {
    return static_cast<std::size_t>(token.text.data() - sql_.data());
  }

 private:
  enum class Comment { closed, open };
  Token make(TokenKind kind, std::size_t begin) {
    return Token{kind, sql_.substr(begin, pos_ - begin)};
  }
  Token fail(std::string_view why);
  // Skips whitespace and comments; false after an error.
  bool skip_space_and_comments();
  // /* at pos_: a comment, or the start of an executable comment's code.
  bool open_block_comment();
  // Consumes a comment body after its opening /*, allowing `nesting` nested /* */ inside, as
  // the server's consume_comment() does.
  bool consume_comment(int nesting);
  bool quoted(char quote, bool backslash_escapes);
  Token word_or_number(std::size_t begin);
  Token identifier_from(std::size_t begin);

  std::string_view sql_;
  Reading reading_;
  std::size_t pos_ = 0;
  bool in_executable_comment_ = false;
  // The previous token was an identifier directly followed by '.': the next token is an
  // identifier even if it starts with a digit (t.1col), as MY_LEX_IDENT_SEP reads it.
  bool identifier_follows_dot_ = false;
  bool dot_after_identifier_ = false;
  bool failed_ = false;
  std::string_view error_;
};

// The value of a string-like token: quotes removed, doubled quotes and (unless
// NO_BACKSLASH_ESCAPES) backslash escapes decoded as the server decodes them.
std::string string_value(const Token& token, const Reading& reading);
// The name of an identifier token: backticks or double quotes removed, doubled ones undone.
std::string identifier_value(const Token& token);
// A character set name the server accepts after '_' as an introducer (utf8mb4, latin1, ...).
bool is_charset_name(std::string_view name);

// ASCII case-insensitive comparison with a lower-case word.
inline bool iequals(std::string_view text, std::string_view lower_word) {
  if (text.size() != lower_word.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_word[i]) return false;
  }
  return true;
}

std::string to_lower(std::string_view text);

}  // namespace portcullis::sql::mysql
