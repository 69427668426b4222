// MySQL/MariaDB statement classifier: lexes the text as the backend will (lexer.cc), cuts it
// into statements at the semicolons the server splits a multi-statement text at, and
// classifies each (statement_analysis.cc).
#include "sql/mysql/classifier.h"

#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sql/mysql/secret_redaction.h"
#include "sql/mysql/statement_analysis.h"
#include "sql/mysql/token_walk.h"

namespace portcullis::sql::mysql {

namespace {

bool is_space(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

Classification unparsable(std::string_view sql, std::string error) {
  Classification c;
  Statement s = unknown_statement();
  s.text = std::string(sql);
  c.statements.push_back(std::move(s));
  c.parse_error = std::move(error);
  return c;
}

// A later piece of a stored program's body or compound statement: its facts join the
// statement that began it, so that nothing after the body can hide there.
void absorb(Statement& into, const Statement& piece) {
  into.classes |= piece.classes;
  add_name(into.nested_kinds, piece.kind);
  auto append = [](std::vector<std::string>& to, const std::vector<std::string>& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  append(into.nested_kinds, piece.nested_kinds);
  append(into.tables_read, piece.tables_read);
  append(into.tables_written, piece.tables_written);
  append(into.functions, piece.functions);
  append(into.columns_referenced, piece.columns_referenced);
  into.where_absent = into.where_absent || piece.where_absent;
  into.lifts_read_only = into.lifts_read_only || piece.lifts_read_only;
  into.changes_text_reading = into.changes_text_reading || piece.changes_text_reading;
  into.calls_unknown_functions = into.calls_unknown_functions || piece.calls_unknown_functions;
}

Classification classify_at(std::string_view sql, Reading reading, int depth) {
  // The server reads each statement of a multi-statement text after the one before it ran:
  // a SET sql_mode or SET NAMES changes how the rest is read, so the lexer starts again there
  // with the new reading, and text after a change the classifier cannot follow is unknown.
  std::optional<Lexer> lexer;
  lexer.emplace(sql, reading);
  std::size_t base = 0;  // offset of the lexer's text in `sql`
  Classification c;
  std::vector<Token> tokens;
  std::size_t begin = 0;
  // Set while the statements are pieces of one stored program or compound statement.
  bool absorbing = false;
  std::size_t absorbing_begin = 0;
  for (;;) {
    const Token t = lexer->next();
    if (t.kind == TokenKind::error) return unparsable(sql, std::string(lexer->error()));
    if (t.kind != TokenKind::semicolon && t.kind != TokenKind::end) {
      tokens.push_back(t);
      continue;
    }
    const std::size_t stop = base + lexer->offset(t);
    std::optional<Reading> next_reading = reading;
    if (!tokens.empty()) {
      Statement s = analyze(tokens, reading, depth);
      // PREPARE and EXECUTE IMMEDIATE carry the redacted text of the SQL text they run.
      const bool inner_secret = !s.redacted_text.empty();
      s.redacted_text =
          redact_secrets(tokens, trim(sql.substr(begin, stop - begin)), inner_secret, s.kind);
      if (s.changes_text_reading) next_reading = reading_after(tokens, reading);
      // EXECUTE runs a statement prepared earlier, which may have been a SET sql_mode.
      if (s.kind == "execute") next_reading = std::nullopt;
      if (absorbing) {
        Statement& owner = c.statements.back();
        absorb(owner, s);
        owner.text = std::string(trim(sql.substr(absorbing_begin, stop - absorbing_begin)));
        // The pieces' secrets cannot be placed in the whole text one by one.
        if (!owner.redacted_text.empty() || !s.redacted_text.empty()) {
          owner.redacted_text = withheld_text(owner.kind);
        }
      } else {
        if (takes_rest_of_text(tokens)) {
          absorbing = true;
          absorbing_begin = begin;
        }
        s.text = std::string(trim(sql.substr(begin, stop - begin)));
        c.statements.push_back(std::move(s));
      }
      tokens.clear();
    }
    if (t.kind == TokenKind::end) break;
    begin = stop + 1;
    if (!next_reading) {
      std::string_view rest = trim(sql.substr(begin));
      if (rest.empty()) break;
      Statement s = unknown_statement();
      s.text = std::string(rest);
      if (absorbing) {
        absorb(c.statements.back(), s);
        c.statements.back().text = std::string(trim(sql.substr(absorbing_begin)));
      } else {
        c.statements.push_back(std::move(s));
      }
      break;
    }
    if (next_reading->ansi_quotes != reading.ansi_quotes ||
        next_reading->no_backslash_escapes != reading.no_backslash_escapes) {
      reading = *next_reading;
      base = begin;
      lexer.emplace(sql.substr(base), reading);
    }
  }
  for (Statement& s : c.statements) {
    unique_names(s.nested_kinds);
    unique_names(s.tables_read);
    unique_names(s.tables_written);
    unique_names(s.functions);
    unique_names(s.columns_referenced);
  }
  return c;
}

}  // namespace

Classification classify_nested(std::string_view sql, const Reading& reading, int depth) {
  return classify_at(sql, reading, depth);
}

Classification classify(std::string_view sql, const Reading& reading) {
  try {
    return classify_at(sql, reading, 0);
  } catch (const std::exception& e) {
    return unparsable(sql, std::string("classifier error: ") + e.what());
  } catch (...) {
    return unparsable(sql, "classifier error");
  }
}

}  // namespace portcullis::sql::mysql
