// libFuzzer target: the first byte chooses how the backend reads text (NO_BACKSLASH_ESCAPES,
// ANSI_QUOTES, MariaDB or MySQL, its version), the rest is SQL text for the MySQL lexer and
// classifier. It must never crash; every token lies inside the text, after the one before it,
// and a string or quoted name lexed again on its own is the same single token; a parse error
// is one unknown statement of the whole text, and text the lexer cannot cut is one unless a
// statement before the cut changed how the rest is read; every statement has a kind, a class
// (EXECUTE excepted: the session decides it as what it runs) and text from the input; a
// statement that is only read calls only functions known to only compute; and a redacted text
// redacted again is the same.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sql/mysql/catalog_rules.h"
#include "sql/mysql/classifier.h"
#include "sql/mysql/lexer.h"
#include "sql/mysql/secret_redaction.h"

namespace {

using portcullis::sql::mysql::Lexer;
using portcullis::sql::mysql::Reading;
using portcullis::sql::mysql::Token;
using portcullis::sql::mysql::TokenKind;

constexpr uint32_t kVersions[] = {50700, 80036, 101104, 110402};

Reading reading_of(uint8_t b) {
  return Reading{.no_backslash_escapes = (b & 1u) != 0,
                 .ansi_quotes = (b & 2u) != 0,
                 .mariadb = (b & 4u) != 0,
                 .server_version = kVersions[(b >> 3) & 3u]};
}

bool relexes_alone(TokenKind k) {
  return k == TokenKind::string || k == TokenKind::national_string ||
         k == TokenKind::quoted_identifier || k == TokenKind::hex_string;
}

// Lexes the whole text; true when it fails.
bool check_lexer(std::string_view sql, const Reading& reading) {
  Lexer lexer(sql, reading);
  std::size_t previous_end = 0;
  bool failed = false;
  for (std::size_t n = 0;; ++n) {
    if (n > sql.size() + 2) std::abort();  // every token but the last consumes a byte
    const Token t = lexer.next();
    const std::size_t at = static_cast<std::size_t>(t.text.data() - sql.data());
    if (at > sql.size() || t.text.size() > sql.size() - at) std::abort();
    if (at < previous_end) std::abort();
    if (t.kind == TokenKind::end) break;
    if (t.kind == TokenKind::error) {
      failed = true;
      if (lexer.next().kind != TokenKind::end) std::abort();
      break;
    }
    if (t.text.empty()) std::abort();
    previous_end = at + t.text.size();
    if (relexes_alone(t.kind)) {
      Lexer again(t.text, reading);
      const Token u = again.next();
      if (u.kind != t.kind || u.text != t.text) std::abort();
      if (again.next().kind != TokenKind::end) std::abort();
    }
  }
  return failed;
}

// Redacting a redacted text changes nothing: every secret literal in it is already '***'.
// Had a redaction cut out the wrong token, the secret would still be there and be cut again.
void check_redaction(const portcullis::sql::Statement& s, const Reading& reading,
                     bool reading_changed) {
  if (s.redacted_text.empty() || reading_changed ||
      s.redacted_text == portcullis::sql::mysql::withheld_text(s.kind)) {
    return;
  }
  const portcullis::sql::Classification again =
      portcullis::sql::mysql::classify(s.redacted_text, reading);
  for (const auto& t : again.statements) {
    if (!t.redacted_text.empty() && t.redacted_text != t.text) std::abort();
  }
}

void check_classifier(std::string_view sql, const Reading& reading, bool lexer_failed) {
  using portcullis::sql::ClassSet;
  using portcullis::sql::StatementClass;
  const portcullis::sql::Classification c = portcullis::sql::mysql::classify(sql, reading);
  if (!c.parse_error.empty()) {
    if (c.statements.size() != 1 || c.statements[0].text != sql ||
        c.statements[0].classes != static_cast<ClassSet>(StatementClass::unknown)) {
      std::abort();
    }
    return;
  }
  // Text the lexer cannot cut is a parse error, unless a statement before the cut changed how
  // the rest is read (SET sql_mode, EXECUTE): then the classifier lexed the rest differently or
  // made it one unknown statement.
  if (lexer_failed) {
    bool changed = false;
    for (const auto& s : c.statements) {
      // A stored program's body takes the statements after it as pieces of itself.
      const bool execute = s.kind == "execute" ||
                           std::find(s.nested_kinds.begin(), s.nested_kinds.end(), "execute") !=
                               s.nested_kinds.end();
      changed |= s.changes_text_reading || execute;
    }
    if (!changed) std::abort();
  }
  bool reading_changed = false;
  for (const auto& s : c.statements) reading_changed |= s.changes_text_reading;
  std::size_t semicolons = 0;
  for (char ch : sql) semicolons += ch == ';';
  if (c.statements.size() > semicolons + 1) std::abort();
  for (const auto& s : c.statements) {
    if (s.kind.empty() || s.text.empty() || sql.find(s.text) == std::string_view::npos) {
      std::abort();
    }
    if (s.classes == 0 && s.kind != "execute") std::abort();
    check_redaction(s, reading, reading_changed);
    if (s.classes != static_cast<ClassSet>(StatementClass::read)) continue;
    if (s.kind == "explain" || s.kind == "describe") continue;  // nothing runs
    for (const auto& f : s.functions) {
      if (!portcullis::sql::mysql::is_read_function(f)) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Reading reading = reading_of(data[0]);
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool failed = check_lexer(text, reading);
  check_classifier(text, reading, failed);
  return 0;
}
