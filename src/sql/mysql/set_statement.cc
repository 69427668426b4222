// SET in its forms: variables (user, system, scoped), NAMES and CHARACTER SET, TRANSACTION,
// PASSWORD, ROLE and MariaDB's SET STATEMENT ... FOR; and how a SET leaves the reading of the
// text after it.
#include "sql/mysql/set_statement.h"

#include <optional>
#include <string>
#include <utility>

#include "sql/mysql/catalog_rules.h"
#include "sql/mysql/statement_helpers.h"
#include "sql/mysql/token_walk.h"

namespace portcullis::sql::mysql {

namespace {

bool clearly_true(Tokens value, const Reading& reading) {
  if (value.size() != 1) return false;
  const Token& v = value[0];
  if (v.kind == TokenKind::number) return v.text == "1";
  if (v.kind == TokenKind::word) return iequals(v.text, "on") || iequals(v.text, "true");
  if (v.kind == TokenKind::string) {
    const std::string s = to_lower(string_value(v, reading));
    return s == "on" || s == "true" || s == "1";
  }
  return false;
}

bool is_global_scope(std::string_view scope) {
  return iequals(scope, "global") || iequals(scope, "persist") || iequals(scope, "persist_only");
}

// SET [scope] TRANSACTION characteristic [, ...]
Statement set_transaction(Tokens t, std::size_t transaction_at) {
  Statement s = make("set_transaction", kTransaction);
  s.setting = "transaction";
  if (transaction_at > 1) s.classes = is_global_scope(t[1].text) ? kAdmin : kSession;
  for (std::size_t i = transaction_at + 1; i + 1 < t.size(); ++i) {
    if (is_word(t[i], "read") && is_word(t[i + 1], "write")) s.lifts_read_only = true;
  }
  return s;
}

// One assignment of a SET list: classes and flags into `s`.
void assignment(Statement& s, Tokens a, const Reading& reading, std::string& sticky_scope,
                bool first) {
  std::size_t i = 0;
  std::string scope;
  if (i < a.size() && is_scope_word(a[i])) {
    scope = to_lower(a[i].text);
    ++i;
  }
  if (!scope.empty()) sticky_scope = scope;
  std::string name;
  bool user_variable = false;
  if (i < a.size() && a[i].kind == TokenKind::user_variable) {
    user_variable = true;
    name = a[i].text.size() > 1 ? to_lower(string_value(a[i], reading)) : std::string();
    ++i;
    if (name.empty() && i < a.size() &&
        (a[i].kind == TokenKind::word || a[i].kind == TokenKind::quoted_identifier ||
         a[i].kind == TokenKind::string)) {
      name = to_lower(a[i].kind == TokenKind::string ? string_value(a[i], reading)
                                                     : identifier_value(a[i]));
      ++i;
    }
    name = "@" + name;
  } else {
    if (i < a.size() && a[i].kind == TokenKind::at_at) {
      ++i;
      if (i + 1 < a.size() && is_scope_word(a[i]) && is_punct(a[i + 1], ".")) {
        scope = to_lower(a[i].text);
        i += 2;
      }
    }
    if (iequals(std::string_view(scope), "local") || iequals(std::string_view(scope), "session")) {
      // An explicit session scope ends a sticky GLOBAL for itself only.
    } else if (scope.empty()) {
      scope = sticky_scope;
    }
    if (word_at(a, i, "names")) {
      name = "names";
      ++i;
    } else if ((word_at(a, i, "character") && word_at(a, i + 1, "set")) ||
               word_at(a, i, "charset")) {
      name = "character_set";
      i += word_at(a, i, "charset") ? 1 : 2;
    } else if (i < a.size() &&
               (a[i].kind == TokenKind::word || a[i].kind == TokenKind::quoted_identifier)) {
      name = to_lower(identifier_value(a[i]));
      ++i;
      // Structured variables: keycache1.key_buffer_size
      if (punct_at(a, i, ".") && i + 1 < a.size() && a[i + 1].kind == TokenKind::word) {
        name += "." + to_lower(a[i + 1].text);
        i += 2;
      }
    }
  }
  if (name.empty() || name == "@") {
    s.classes |= kUnknown;
    return;
  }
  if (first) s.setting = name;
  Tokens value;
  if (name == "names" || name == "character_set") {
    value = a.subspan(i);
  } else {
    if (!(punct_at(a, i, "=") || punct_at(a, i, ":="))) {
      s.classes |= kUnknown;
      return;
    }
    value = a.subspan(i + 1);
  }
  // The value runs: its calls and subqueries count. NAMES and CHARACTER SET name a character
  // set, not a column.
  Facts f;
  if (name != "names" && name != "character_set") walk(value, f);
  Statement v;
  apply_facts(v, f, true);
  if (!f.tables_read.empty() || f.subquery) v.classes |= kRead;
  s.classes |= v.classes;
  merge_objects(s, v);
  if (user_variable) {
    s.classes |= kSession;
    return;
  }
  if (is_text_reading_setting(name)) s.changes_text_reading = true;
  if (is_read_only_setting(name)) {
    if (!clearly_true(value, reading)) {
      s.lifts_read_only = true;
      s.classes |= kSession | kAdmin;
    } else {
      s.classes |= is_global_scope(scope) ? kAdmin : kSession;
    }
    return;
  }
  if (is_global_scope(scope)) {
    s.classes |= kAdmin;
    return;
  }
  if (name == "sql_safe_updates" && !clearly_true(value, reading)) {
    s.classes |= kAdmin;  // turning the safety net off
    return;
  }
  s.classes |=
      (name == "names" || name == "character_set" || is_session_setting(name)) ? kSession : kAdmin;
}

}  // namespace

Statement analyze_set(Tokens t, const Reading& reading, int depth) {
  if (word_at(t, 1, "password")) {
    Statement s = make("set_password", kDcl);
    s.setting = "password";
    return s;
  }
  if (word_at(t, 1, "role")) {
    Statement s = make("set_role", kDcl);
    s.setting = "role";
    return s;
  }
  if (word_at(t, 1, "default") && word_at(t, 2, "role")) return make("set_default_role", kDcl);
  if (word_at(t, 1, "resource") && word_at(t, 2, "group"))
    return make("set_resource_group", kAdmin);
  if (word_at(t, 1, "transaction")) return set_transaction(t, 1);
  if (t.size() > 2 && is_scope_word(t[1]) && word_at(t, 2, "transaction"))
    return set_transaction(t, 2);
  std::size_t end = t.size();
  std::optional<Statement> inner;
  std::size_t begin = 1;
  if (word_at(t, 1, "statement")) {
    // MariaDB: SET STATEMENT v = x [, ...] FOR statement
    const std::size_t for_at = find_top(t, 2, "for");
    if (for_at >= t.size() || depth >= kMaxDepth) return unknown_statement();
    inner = analyze(t.subspan(for_at + 1), reading, depth + 1);
    begin = 2;
    end = for_at;
  }
  Statement s = make(inner ? "set_statement" : "set", 0);
  std::string sticky_scope;
  bool first = true;
  std::size_t piece = begin;
  int paren = 0;
  for (std::size_t i = begin; i <= end; ++i) {
    if (i < end && is_punct(t[i], "(")) ++paren;
    if (i < end && is_punct(t[i], ")")) --paren;
    if (i == end || (paren == 0 && is_punct(t[i], ","))) {
      if (i == piece) {
        s.classes |= kUnknown;
      } else {
        assignment(s, t.subspan(piece, i - piece), reading, sticky_scope, first);
      }
      first = false;
      piece = i + 1;
    }
  }
  if (inner) {
    s.inner_kind = inner->kind;
    s.classes |= inner->classes;
    s.where_absent = inner->where_absent;
    s.lifts_read_only = s.lifts_read_only || inner->lifts_read_only;
    // Its settings last for its own statement, which the server read before they took effect.
    s.changes_text_reading = inner->changes_text_reading;
    s.calls_unknown_functions = inner->calls_unknown_functions;
    merge_objects(s, *inner);
    if (is_dml_kind(inner->kind)) add_name(s.nested_kinds, inner->kind);
  }
  return s;
}

namespace {

// Character sets whose multi-byte characters may end in 0x5c ('\\') or hold a quote byte:
// the server reads such a byte as part of the character, the classifier would not.
bool is_unsafe_client_charset(std::string_view name) {
  for (std::string_view c : {"big5", "cp932", "gb18030", "gbk", "sjis"}) {
    if (iequals(name, c)) return true;
  }
  return false;
}

// A new sql_mode's effect on reading text; nullopt for modes that change more than the two
// flags (MariaDB's ORACLE and MSSQL modes switch grammars).
std::optional<Reading> with_sql_mode(std::string_view modes, Reading reading) {
  reading.ansi_quotes = false;
  reading.no_backslash_escapes = false;
  std::size_t start = 0;
  while (start <= modes.size()) {
    std::size_t comma = modes.find(',', start);
    if (comma == std::string_view::npos) comma = modes.size();
    std::string_view mode = modes.substr(start, comma - start);
    while (!mode.empty() && mode.front() == ' ') mode.remove_prefix(1);
    while (!mode.empty() && mode.back() == ' ') mode.remove_suffix(1);
    if (iequals(mode, "oracle") || iequals(mode, "mssql")) return std::nullopt;
    if (iequals(mode, "ansi_quotes") || iequals(mode, "ansi") || iequals(mode, "db2") ||
        iequals(mode, "maxdb") || iequals(mode, "postgresql")) {
      reading.ansi_quotes = true;
    }
    if (iequals(mode, "no_backslash_escapes")) reading.no_backslash_escapes = true;
    start = comma + 1;
  }
  return reading;
}

}  // namespace

std::optional<Reading> reading_after(std::span<const Token> t, const Reading& reading) {
  if (t.empty() || !is_word(t[0], "set")) return std::nullopt;
  // SET STATEMENT's settings last for its own statement, read before they took effect.
  if (word_at(t, 1, "statement")) return reading;
  Reading next = reading;
  std::size_t piece = 1;
  int paren = 0;
  for (std::size_t i = 1; i <= t.size(); ++i) {
    if (i < t.size() && is_punct(t[i], "(")) ++paren;
    if (i < t.size() && is_punct(t[i], ")")) --paren;
    if (i < t.size() && !(paren == 0 && is_punct(t[i], ","))) continue;
    Tokens a = t.subspan(piece, i - piece);
    piece = i + 1;
    std::size_t k = 0;
    bool global = false;
    if (k < a.size() && is_scope_word(a[k])) global = is_global_scope(a[k++].text);
    if (k < a.size() && a[k].kind == TokenKind::at_at) {
      ++k;
      if (k + 1 < a.size() && is_scope_word(a[k]) && is_punct(a[k + 1], ".")) {
        global = is_global_scope(a[k].text);
        k += 2;
      }
    }
    if (k >= a.size() || a[k].kind == TokenKind::user_variable) continue;
    if (word_at(a, k, "names") || word_at(a, k, "charset") ||
        (word_at(a, k, "character") && word_at(a, k + 1, "set")) ||
        (a[k].kind == TokenKind::word && iequals(a[k].text, "character_set_client"))) {
      if (global) continue;
      // The value: a name or a string, after '=' for character_set_client.
      std::size_t v = k + (word_at(a, k, "character") ? 2 : 1);
      if (punct_at(a, v, "=") || punct_at(a, v, ":=")) ++v;
      if (v >= a.size() || word_at(a, v, "default")) return std::nullopt;
      const std::string name =
          a[v].kind == TokenKind::string ? string_value(a[v], reading) : identifier_value(a[v]);
      if (is_unsafe_client_charset(name)) return std::nullopt;
      continue;
    }
    if (a[k].kind != TokenKind::word && a[k].kind != TokenKind::quoted_identifier) continue;
    if (!iequals(identifier_value(a[k]), "sql_mode")) continue;
    if (global) continue;
    if (!(punct_at(a, k + 1, "=") || punct_at(a, k + 1, ":=")) || a.size() != k + 3) {
      return std::nullopt;
    }
    const Token& value = a[k + 2];
    std::string modes;
    if (value.kind == TokenKind::string) {
      modes = string_value(value, reading);
    } else if (value.kind == TokenKind::word && !iequals(value.text, "default")) {
      modes = std::string(value.text);
    } else {
      return std::nullopt;  // DEFAULT, a number (a bit mask), an expression
    }
    auto changed = with_sql_mode(modes, next);
    if (!changed) return std::nullopt;
    next = *changed;
  }
  return next;
}

}  // namespace portcullis::sql::mysql
