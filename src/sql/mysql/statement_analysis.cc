// The classification of one MySQL/MariaDB statement: the leading keywords choose the kind
// (the table in classifier.h), the token walk adds what the statement touches.
#include "sql/mysql/statement_analysis.h"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sql/mysql/catalog_rules.h"
#include "sql/mysql/constant_condition.h"
#include "sql/mysql/keywords.h"
#include "sql/mysql/token_walk.h"

namespace portcullis::sql::mysql {

Statement unknown_statement() {
  Statement s;
  s.kind = "unknown";
  s.classes = kUnknown;
  return s;
}

namespace {

// Statements wrapped in statements (EXPLAIN EXPLAIN ..., PREPARE of a PREPARE) deeper than
// this are unknown.
constexpr int kMaxDepth = 4;

using Tokens = std::span<const Token>;

bool word_at(Tokens t, std::size_t i, std::string_view w) {
  return i < t.size() && is_word(t[i], w);
}
bool punct_at(Tokens t, std::size_t i, std::string_view p) {
  return i < t.size() && is_punct(t[i], p);
}

// Index of the first `word` at parenthesis depth 0 from `from`, or t.size().
std::size_t find_top(Tokens t, std::size_t from, std::string_view word) {
  int depth = 0;
  for (std::size_t i = from; i < t.size(); ++i) {
    if (is_punct(t[i], "(")) ++depth;
    if (is_punct(t[i], ")")) --depth;
    if (depth == 0 && is_word(t[i], word)) return i;
  }
  return t.size();
}

Statement make(std::string kind, ClassSet classes) {
  Statement s;
  s.kind = std::move(kind);
  s.classes = classes;
  return s;
}

// Applies what the walk found. `runs` is false for statements that only store expressions (a
// view's query, a column default): their functions run later, under another statement.
void apply_facts(Statement& s, Facts& f, bool runs) {
  auto append = [](std::vector<std::string>& to, std::vector<std::string>& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
    from.clear();
  };
  append(s.tables_read, f.tables_read);
  append(s.tables_written, f.tables_written);
  append(s.functions, f.functions);
  append(s.columns_referenced, f.columns);
  if (runs) {
    if (f.unknown_function) s.classes |= kUnknown;
    if (f.write_function) s.classes |= kWrite;
    if (f.admin_function) s.classes |= kAdmin;
    if (f.locking) s.classes |= kWrite;
  }
  if (f.too_deep) s.classes |= kUnknown;
}

void merge_objects(Statement& into, const Statement& from) {
  auto append = [](std::vector<std::string>& to, const std::vector<std::string>& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  append(into.nested_kinds, from.nested_kinds);
  append(into.tables_read, from.tables_read);
  append(into.tables_written, from.tables_written);
  append(into.functions, from.functions);
  append(into.columns_referenced, from.columns_referenced);
}

bool is_dml_kind(std::string_view kind) {
  return kind == "insert" || kind == "replace" || kind == "update" || kind == "delete" ||
         kind == "load_data";
}

// UPDATE or DELETE: no WHERE at the top level, or one that selects every row.
bool where_absent(Tokens t, const Reading& reading) {
  const std::size_t where = find_top(t, 0, "where");
  if (where == t.size()) return true;
  std::size_t end = t.size();
  for (std::string_view w : {"order", "limit", "returning"})
    end = std::min(end, find_top(t, where + 1, w));
  return selects_every_row(t.subspan(where + 1, end - where - 1), reading);
}

// ---- queries ----------------------------------------------------------------------------

Statement query(Tokens t, std::string kind) {
  Facts f;
  walk(t, f);
  Statement s = make(std::move(kind), kRead);
  if (f.into_outfile) {
    s.kind = "select_into_outfile";
    s.classes |= kAdmin;
  }
  apply_facts(s, f, true);
  return s;
}

Statement insert(Tokens t, std::string kind, Facts f) {
  std::size_t i = 1;
  while (word_at(t, i, "low_priority") || word_at(t, i, "delayed") ||
         word_at(t, i, "high_priority") || word_at(t, i, "ignore")) {
    ++i;
  }
  if (word_at(t, i, "into")) ++i;
  std::size_t end = i;
  std::string table = table_name(t, i, end);
  if (table.empty()) return unknown_statement();
  Statement s = make(std::move(kind), kWrite);
  add_name(s.tables_written, std::move(table));
  walk(t.subspan(end), f);
  apply_facts(s, f, true);
  s.nested_kinds.push_back(s.kind);
  return s;
}

Statement update(Tokens t, const Reading& reading, Facts f) {
  std::size_t i = 1;
  while (word_at(t, i, "low_priority") || word_at(t, i, "ignore")) ++i;
  Statement s = make("update", kWrite);
  walk(t.subspan(i), f, TableUse::write);
  apply_facts(s, f, true);
  s.where_absent = where_absent(t, reading);
  s.nested_kinds.push_back("update");
  return s;
}

// DELETE t1, t2 FROM ... / DELETE FROM t1, t2 USING ...: the targets are names or aliases of
// the tables after FROM / USING.
std::vector<std::string> delete_targets(Tokens t, std::size_t begin, std::size_t end) {
  std::vector<std::string> names;
  std::size_t i = begin;
  while (i < end) {
    std::size_t next = i;
    std::string name = table_name(t, i, next);
    if (name.empty()) {
      ++i;
      continue;
    }
    names.push_back(std::move(name));
    i = next;
    if (punct_at(t, i, ".") && punct_at(t, i + 1, "*")) i += 2;
  }
  return names;
}

Statement delete_statement(Tokens t, const Reading& reading, Facts f) {
  std::size_t i = 1;
  // MariaDB's DELETE HISTORY removes a system-versioned table's old rows.
  while (word_at(t, i, "low_priority") || word_at(t, i, "quick") || word_at(t, i, "ignore") ||
         word_at(t, i, "history")) {
    ++i;
  }
  Statement s = make("delete", kWrite);
  std::vector<std::string> targets;
  if (word_at(t, i, "from")) {
    const std::size_t using_at = find_top(t, i + 1, "using");
    if (using_at == t.size()) {
      walk(t.subspan(i + 1), f, TableUse::write);
    } else {
      targets = delete_targets(t, i + 1, using_at);
      walk(t.subspan(using_at + 1), f, TableUse::read);
    }
  } else {
    const std::size_t from = find_top(t, i, "from");
    if (from == t.size()) return unknown_statement();
    targets = delete_targets(t, i, from);
    walk(t.subspan(from + 1), f, TableUse::read);
  }
  std::unordered_map<std::string_view, std::string_view> alias_tables;
  for (const auto& [alias, name] : f.aliases) alias_tables[alias] = name;
  for (const std::string& target : targets) {
    auto found = alias_tables.find(target);
    add_name(f.tables_written, found == alias_tables.end() ? target : std::string(found->second));
  }
  apply_facts(s, f, true);
  s.where_absent = where_absent(t, reading);
  s.nested_kinds.push_back("delete");
  return s;
}

// WITH ... main statement: the index of the main statement's first token.
std::size_t after_ctes(Tokens t) {
  int depth = 0;
  for (std::size_t i = 1; i < t.size(); ++i) {
    if (is_punct(t[i], "(")) {
      // A CTE's column list or query follows its name or AS; any other '(' is the main query.
      if (depth == 0 && i > 0 && !word_at(t, i - 1, "as") &&
          !(t[i - 1].kind == TokenKind::word || t[i - 1].kind == TokenKind::quoted_identifier)) {
        return i;
      }
      ++depth;
    }
    if (is_punct(t[i], ")")) --depth;
    if (depth != 0 || t[i].kind != TokenKind::word) continue;
    for (std::string_view w :
         {"select", "update", "delete", "insert", "replace", "table", "values"}) {
      if (iequals(t[i].text, w)) return i;
    }
  }
  return t.size();
}

Statement with_statement(Tokens t, const Reading& reading) {
  const std::size_t main = after_ctes(t);
  if (main >= t.size()) return unknown_statement();
  if (!word_at(t, main, "update") && !word_at(t, main, "delete") && !word_at(t, main, "insert") &&
      !word_at(t, main, "replace")) {
    return query(t, "select");
  }
  Facts ctes;
  walk(t.subspan(0, main), ctes);
  Tokens rest = t.subspan(main);
  if (word_at(t, main, "update")) return update(rest, reading, std::move(ctes));
  if (word_at(t, main, "delete")) return delete_statement(rest, reading, std::move(ctes));
  return insert(rest, to_lower(t[main].text), std::move(ctes));
}

// ---- SET ----------------------------------------------------------------------------------

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

bool is_scope_word(const Token& t) {
  return is_word(t, "global") || is_word(t, "session") || is_word(t, "local") ||
         is_word(t, "persist") || is_word(t, "persist_only");
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

Statement set_statement(Tokens t, const Reading& reading, int depth) {
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

// ---- PREPARE / EXECUTE / EXPLAIN ----------------------------------------------------------

// The SQL text of a PREPARE or EXECUTE IMMEDIATE source that is a string literal ('a' 'b'
// concatenated, an introducer allowed); nullopt for anything else (@var, CONCAT(...)).
std::optional<std::string> literal_text(Tokens src, const Reading& reading) {
  std::size_t i = 0;
  if (i < src.size() && src[i].kind == TokenKind::introducer) ++i;
  if (i >= src.size()) return std::nullopt;
  std::string text;
  for (; i < src.size(); ++i) {
    if (src[i].kind != TokenKind::string && src[i].kind != TokenKind::national_string) {
      return std::nullopt;
    }
    text += string_value(src[i], reading);
  }
  return text;
}

// The statement a PREPARE or EXECUTE IMMEDIATE would run, with `kind` and the text's classes.
Statement prepared(Tokens src, const Reading& reading, int depth, std::string kind) {
  auto text = literal_text(src, reading);
  Statement s = make(std::move(kind), kUnknown);
  if (!text || depth >= kMaxDepth) return s;
  Classification inner = classify_nested(*text, reading, depth + 1);
  // The server prepares exactly one statement.
  if (inner.statements.size() != 1 || !inner.parse_error.empty()) return s;
  Statement in = std::move(inner.statements[0]);
  in.inner_kind = in.kind;
  in.kind = s.kind;
  in.text.clear();
  in.setting.clear();
  return in;
}

bool starts_statement(Tokens t, std::size_t i) {
  if (punct_at(t, i, "(")) return true;
  for (std::string_view w :
       {"select", "with", "insert", "replace", "update", "delete", "table", "values"}) {
    if (word_at(t, i, w)) return true;
  }
  return false;
}

Statement explain(Tokens t, const Reading& reading, int depth, bool analyzes) {
  std::size_t i = 1;
  bool runs = analyzes;
  for (;;) {
    if (word_at(t, i, "analyze")) {
      runs = true;
      ++i;
    } else if (word_at(t, i, "extended") || word_at(t, i, "partitions")) {
      ++i;
    } else if (word_at(t, i, "format") && punct_at(t, i + 1, "=")) {
      i += 3;
    } else {
      break;
    }
  }
  if (word_at(t, i, "for") && word_at(t, i + 1, "connection")) return make("explain", kRead);
  if (starts_statement(t, i)) {
    if (depth >= kMaxDepth) return unknown_statement();
    Statement inner = analyze(t.subspan(i), reading, depth + 1);
    Statement s = make("explain", kRead);
    s.inner_kind = inner.kind;
    merge_objects(s, inner);
    if (runs) {
      s.classes = inner.classes;
      s.where_absent = inner.where_absent;
    } else {
      // MySQL's optimizer evaluates constant subqueries and calls while it plans, so a plain
      // EXPLAIN may still run the statement's functions.
      Facts f;
      walk(t.subspan(i), f);
      if (f.unknown_function) s.classes |= kUnknown;
      if (f.write_function) s.classes |= kWrite;
      if (f.admin_function) s.classes |= kAdmin;
    }
    return s;
  }
  if (analyzes) return unknown_statement();
  // DESCRIBE t [column]
  std::size_t end = i;
  std::string table = table_name(t, i, end);
  if (table.empty()) return unknown_statement();
  Statement s = make("describe", kRead);
  add_name(s.tables_read, std::move(table));
  return s;
}

// ---- DDL ----------------------------------------------------------------------------------

// Skips CREATE/ALTER's modifiers: OR REPLACE, DEFINER = user, ALGORITHM = x, SQL SECURITY x,
// TEMPORARY, ONLINE, IGNORE, AGGREGATE, UNIQUE/FULLTEXT/SPATIAL (of an index).
std::size_t skip_modifiers(Tokens t, std::size_t i) {
  for (;;) {
    if (word_at(t, i, "or") && word_at(t, i + 1, "replace")) {
      i += 2;
    } else if (word_at(t, i, "definer") && punct_at(t, i + 1, "=")) {
      i += 2;
      // user, 'user'@'host', CURRENT_USER[()]
      if (i < t.size()) ++i;
      if (i < t.size() && t[i].kind == TokenKind::user_variable) ++i;
      if (punct_at(t, i, "(") && punct_at(t, i + 1, ")")) i += 2;
    } else if ((word_at(t, i, "algorithm") || word_at(t, i, "lock")) && punct_at(t, i + 1, "=")) {
      i += 3;
    } else if (word_at(t, i, "sql") && word_at(t, i + 1, "security")) {
      i += 3;
    } else if (word_at(t, i, "temporary") || word_at(t, i, "online") || word_at(t, i, "offline") ||
               word_at(t, i, "ignore") || word_at(t, i, "aggregate") || word_at(t, i, "unique") ||
               word_at(t, i, "fulltext") || word_at(t, i, "nonblocking")) {
      ++i;
    } else if (word_at(t, i, "spatial") && !word_at(t, i + 1, "reference")) {
      ++i;
    } else {
      return i;
    }
  }
}

std::size_t skip_if_exists(Tokens t, std::size_t i) {
  if (word_at(t, i, "if") && word_at(t, i + 1, "not") && word_at(t, i + 2, "exists")) return i + 3;
  if (word_at(t, i, "if") && word_at(t, i + 1, "exists")) return i + 2;
  return i;
}

struct ObjectRule {
  std::string_view object;  // the word after CREATE/ALTER/DROP
  std::string_view kind;    // suffix of create_/alter_/drop_
  ClassSet classes;
};

constexpr ObjectRule kObjects[] = {
    {"table", "table", kDdl},
    {"tables", "table", kDdl},
    {"index", "index", kDdl},
    {"view", "view", kDdl},
    {"trigger", "trigger", kDdl},
    {"procedure", "procedure", kDdl},
    {"function", "function", kDdl},
    {"event", "event", kDdl},
    {"sequence", "sequence", kDdl},
    {"package", "package", kDdl},
    {"database", "database", kDdl | kAdmin},
    {"schema", "database", kDdl | kAdmin},
    {"server", "server", kDdl | kAdmin},
    {"tablespace", "tablespace", kDdl | kAdmin},
    {"logfile", "logfile_group", kDdl | kAdmin},
    {"undo", "tablespace", kDdl | kAdmin},
    {"resource", "resource_group", kDdl | kAdmin},
    {"spatial", "spatial_reference_system", kDdl | kAdmin},
    {"user", "user", kDcl},
    {"role", "role", kDcl},
};

const ObjectRule* find_object(Tokens t, std::size_t i) {
  if (i >= t.size() || t[i].kind != TokenKind::word) return nullptr;
  for (const auto& r : kObjects) {
    if (iequals(t[i].text, r.object)) return &r;
  }
  return nullptr;
}

// Names in a comma list after `i` (DROP TABLE a, b; TRUNCATE TABLE t).
void name_list(Tokens t, std::size_t i, std::vector<std::string>& into) {
  while (i < t.size()) {
    std::size_t end = i;
    std::string name = table_name(t, i, end);
    if (name.empty()) return;
    add_name(into, std::move(name));
    i = end;
    if (!punct_at(t, i, ",")) return;
    ++i;
  }
}

bool has_word(Tokens t, std::string_view w) {
  return std::any_of(t.begin(), t.end(), [&](const Token& x) { return is_word(x, w); });
}

Statement create(Tokens t, const Reading& reading) {
  std::size_t i = skip_modifiers(t, 1);
  const ObjectRule* rule = find_object(t, i);
  if (rule == nullptr) return unknown_statement();
  Statement s = make("create_" + std::string(rule->kind), rule->classes);
  if (rule->kind == "logfile_group" || rule->kind == "resource_group" ||
      rule->kind == "spatial_reference_system") {
    return s;
  }
  std::size_t j = skip_if_exists(t, i + 1);
  if (rule->kind == "table") {
    std::size_t end = j;
    std::string table = table_name(t, j, end);
    if (table.empty()) return unknown_statement();
    add_name(s.tables_written, table);
    // CREATE TABLE t [(...)] [AS] SELECT ... / LIKE s
    std::size_t select = find_top(t, end, "select");
    if (select == t.size() && punct_at(t, end, "(") && word_at(t, end + 1, "select"))
      select = end + 1;
    if (select == t.size()) select = find_top(t, end, "with");
    if (select < t.size()) {
      s.kind = "create_table_as";
      Facts f;
      walk(t.subspan(select), f);
      s.classes |= kWrite | kRead;
      apply_facts(s, f, true);
      if (f.into_outfile) s.classes |= kAdmin;
    } else if (word_at(t, end, "like") || (punct_at(t, end, "(") && word_at(t, end + 1, "like"))) {
      std::size_t k = word_at(t, end, "like") ? end + 1 : end + 2;
      std::size_t e2 = k;
      std::string source = table_name(t, k, e2);
      if (!source.empty()) add_name(s.tables_read, std::move(source));
    }
    return s;
  }
  if (rule->kind == "index") {
    const std::size_t on = find_top(t, j, "on");
    std::size_t end = on;
    std::string table = on < t.size() ? table_name(t, on + 1, end) : std::string();
    if (!table.empty()) add_name(s.tables_written, std::move(table));
    return s;
  }
  if (rule->kind == "view") {
    // The view's query runs when the view is used: its tables and calls are listed only.
    const std::size_t as = find_top(t, j, "as");
    if (as < t.size()) {
      Facts f;
      walk(t.subspan(as + 1), f);
      apply_facts(s, f, false);
    }
    return s;
  }
  if (rule->kind == "function" && has_word(t, "soname")) {
    // A UDF: the server loads a shared library from its plugin directory.
    s.classes |= kAdmin;
    return s;
  }
  if (rule->kind == "trigger") {
    const std::size_t on = find_top(t, j, "on");
    std::size_t end = on;
    std::string table = on < t.size() ? table_name(t, on + 1, end) : std::string();
    if (!table.empty()) add_name(s.tables_written, std::move(table));
  }
  (void)reading;
  return s;
}

Statement alter(Tokens t) {
  std::size_t i = skip_modifiers(t, 1);
  if (word_at(t, i, "instance")) return make("alter_instance", kAdmin);
  const ObjectRule* rule = find_object(t, i);
  if (rule == nullptr) return unknown_statement();
  Statement s = make("alter_" + std::string(rule->kind), rule->classes);
  if (rule->kind == "table") {
    std::size_t end = i + 1;
    std::string table = table_name(t, skip_if_exists(t, i + 1), end);
    if (!table.empty()) add_name(s.tables_written, std::move(table));
  }
  return s;
}

Statement drop(Tokens t) {
  std::size_t i = 1;
  if (word_at(t, i, "temporary")) ++i;
  if (word_at(t, i, "prepare")) {
    Statement s = make("deallocate", kSession);
    if (i + 1 < t.size()) s.prepared_name = identifier_value(t[i + 1]);
    return s;
  }
  const ObjectRule* rule = find_object(t, i);
  if (rule == nullptr) return unknown_statement();
  Statement s = make("drop_" + std::string(rule->kind), rule->classes);
  const std::size_t j = skip_if_exists(t, i + 1);
  if (rule->kind == "table" || rule->kind == "view" || rule->kind == "sequence") {
    name_list(t, j, s.tables_written);
  } else if (rule->kind == "index") {
    const std::size_t on = find_top(t, j, "on");
    std::size_t end = on;
    std::string table = on < t.size() ? table_name(t, on + 1, end) : std::string();
    if (!table.empty()) add_name(s.tables_written, std::move(table));
  }
  return s;
}

// ---- the rest -----------------------------------------------------------------------------

Statement lock(Tokens t) {
  if (word_at(t, 1, "instance")) return make("lock_instance", kAdmin);
  if (!word_at(t, 1, "tables") && !word_at(t, 1, "table")) return unknown_statement();
  // Even a READ lock blocks other sessions' writes until UNLOCK TABLES: write.
  Statement s = make("lock_tables", kWrite);
  std::size_t i = 2;
  while (i < t.size()) {
    std::size_t end = i;
    std::string table = table_name(t, i, end);
    if (table.empty()) break;
    i = end;
    while (i < t.size() && !is_punct(t[i], ",")) {
      if (is_word(t[i], "write")) add_name(s.tables_written, table);
      if (is_word(t[i], "read")) add_name(s.tables_read, table);
      ++i;
    }
    ++i;
  }
  return s;
}

Statement transaction_start(Tokens t) {
  Statement s = make("start_transaction", kTransaction);
  for (std::size_t i = 2; i < t.size(); ++i) {
    if (is_word(t[i], "write") && i > 0 && is_word(t[i - 1], "read")) s.lifts_read_only = true;
  }
  return s;
}

// [NO_WRITE_TO_BINLOG | LOCAL] TABLE t, ...
Statement table_maintenance(Tokens t, std::string kind, ClassSet classes, bool writes) {
  std::size_t i = 1;
  if (word_at(t, i, "no_write_to_binlog") || word_at(t, i, "local")) ++i;
  if (!word_at(t, i, "table") && !word_at(t, i, "tables")) return unknown_statement();
  Statement s = make(std::move(kind), classes);
  name_list(t, i + 1, writes ? s.tables_written : s.tables_read);
  return s;
}

struct SimpleRule {
  std::string_view first;
  std::string_view second;  // empty: any
  std::string_view kind;
  ClassSet classes;
};

// Statements decided by their first one or two words.
constexpr SimpleRule kSimpleRules[] = {
    {"flush", "", "flush", kAdmin},
    {"reset", "", "reset", kAdmin},
    {"purge", "", "purge", kAdmin},
    {"shutdown", "", "shutdown", kAdmin},
    {"restart", "", "restart", kAdmin},
    {"kill", "", "kill", kAdmin},
    {"install", "", "install_plugin", kAdmin},
    {"uninstall", "", "uninstall_plugin", kAdmin},
    {"binlog", "", "binlog", kAdmin},
    {"cache", "index", "cache_index", kAdmin},
    {"clone", "", "clone", kAdmin},
    {"backup", "", "backup", kAdmin},
    {"import", "table", "import_table", kDdl | kAdmin},
    {"change", "master", "change_master", kAdmin},
    {"change", "replication", "change_replication_source", kAdmin},
    {"start", "slave", "start_replica", kAdmin},
    {"start", "replica", "start_replica", kAdmin},
    {"start", "all", "start_replica", kAdmin},
    {"start", "group_replication", "start_group_replication", kAdmin},
    {"stop", "slave", "stop_replica", kAdmin},
    {"stop", "replica", "stop_replica", kAdmin},
    {"stop", "all", "stop_replica", kAdmin},
    {"stop", "group_replication", "stop_group_replication", kAdmin},
    {"help", "", "help", kRead},
    {"use", "", "use", kSession},
    {"signal", "", "signal", kSession},
    {"resignal", "", "signal", kSession},
    {"get", "", "get_diagnostics", kSession},
    {"unlock", "tables", "unlock_tables", kSession},
    {"unlock", "table", "unlock_tables", kSession},
    {"unlock", "instance", "unlock_instance", kAdmin},
    {"deallocate", "", "deallocate", kSession},
    {"savepoint", "", "savepoint", kTransaction},
    {"release", "savepoint", "release", kTransaction},
    {"commit", "", "commit", kTransaction},
    {"grant", "", "grant", kDcl},
    {"revoke", "", "revoke", kDcl},
    {"show", "", "show", kRead},
    {"handler", "", "handler", kRead},
    {"checksum", "", "checksum_table", kRead},
};

const SimpleRule* find_simple(Tokens t) {
  for (const auto& r : kSimpleRules) {
    if (!is_word(t[0], r.first)) continue;
    if (r.second.empty() || word_at(t, 1, r.second)) return &r;
  }
  return nullptr;
}

Statement simple(Tokens t, const SimpleRule& rule, const Reading& reading) {
  Statement s = make(std::string(rule.kind), rule.classes);
  if (rule.kind == "change_replication_source" && word_at(t, 2, "filter")) {
    s.kind = "change_replication_filter";
  }
  if (rule.kind == "show") {
    // SHOW [GLOBAL | SESSION] VARIABLES LIKE 'name'
    std::size_t i = 1;
    if (i < t.size() && is_scope_word(t[i])) ++i;
    if (word_at(t, i, "variables") && word_at(t, i + 1, "like") && i + 2 < t.size() &&
        t[i + 2].kind == TokenKind::string) {
      s.setting = to_lower(string_value(t[i + 2], reading));
    }
  }
  if (rule.kind == "show" || rule.kind == "handler") {
    // SHOW ... WHERE expr and HANDLER t READ ... WHERE expr evaluate expr: its calls run.
    const std::size_t where = find_top(t, 1, "where");
    if (where < t.size()) {
      Facts f;
      walk(t.subspan(where + 1), f);
      f.columns.clear();
      apply_facts(s, f, true);
      if (f.subquery) s.classes |= kRead;
    }
  }
  if (rule.kind == "handler" && word_at(t, 2, "open")) {
    std::size_t end = 1;
    std::string table = table_name(t, 1, end);
    if (!table.empty()) add_name(s.tables_read, std::move(table));
  }
  if (rule.kind == "deallocate") {
    std::size_t i = word_at(t, 1, "prepare") ? 2 : 1;
    if (i < t.size()) s.prepared_name = identifier_value(t[i]);
  }
  if (rule.kind == "get_diagnostics" &&
      !(word_at(t, 1, "diagnostics") || word_at(t, 2, "diagnostics"))) {
    return unknown_statement();
  }
  return s;
}

Statement call(Tokens t) {
  Statement s = make("call", kAdmin);
  // The procedure's code is not visible: what it calls cannot be shown.
  s.calls_unknown_functions = true;
  std::size_t end = 1;
  std::string name = table_name(t, 1, end);
  if (name.empty()) return unknown_statement();
  add_name(s.functions, to_lower(name));
  Facts f;
  walk(t.subspan(end), f);
  apply_facts(s, f, true);
  return s;
}

Statement execute(Tokens t, const Reading& reading, int depth) {
  if (word_at(t, 1, "immediate"))
    return prepared(t.subspan(2), reading, depth, "execute_immediate");
  // The session decides EXECUTE as the statement it prepared under that name.
  Statement s = make("execute", 0);
  if (t.size() > 1) s.prepared_name = identifier_value(t[1]);
  const std::size_t using_at = find_top(t, 2, "using");
  if (using_at < t.size()) {
    Facts f;
    walk(t.subspan(using_at + 1), f);
    apply_facts(s, f, true);
  }
  return s;
}

Statement load(Tokens t) {
  if (word_at(t, 1, "index")) return make("load_index", kAdmin);
  if (!word_at(t, 1, "data") && !word_at(t, 1, "xml")) return unknown_statement();
  // The server reads a file of its own, or asks the client for one (LOCAL): both write.
  Statement s = make("load_data", kWrite | kAdmin);
  const std::size_t into = find_top(t, 2, "into");
  if (into >= t.size() || !word_at(t, into + 1, "table")) return unknown_statement();
  std::size_t end = into + 2;
  std::string table = table_name(t, into + 2, end);
  if (table.empty()) return unknown_statement();
  add_name(s.tables_written, std::move(table));
  Facts f;
  walk(t.subspan(end), f);
  f.columns.clear();  // FIELDS TERMINATED BY ... is syntax, not columns
  apply_facts(s, f, true);
  s.nested_kinds.push_back("load_data");
  return s;
}

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

bool takes_rest_of_text(std::span<const Token> t) {
  if (t.empty()) return false;
  if (t.size() > 1 && t[0].kind == TokenKind::word && is_punct(t[1], ":")) return true;
  for (std::string_view w : {"if", "case", "loop", "while", "repeat", "for", "declare"}) {
    if (is_word(t[0], w)) return true;
  }
  if (is_word(t[0], "begin") && word_at(t, 1, "not") && word_at(t, 2, "atomic")) return true;
  if (!is_word(t[0], "create")) return false;
  const std::size_t i = skip_modifiers(t, 1);
  for (std::string_view w : {"procedure", "function", "trigger", "event", "package"}) {
    if (word_at(t, i, w)) return !(w == "function" && has_word(t, "soname"));
  }
  return false;
}

Statement analyze(std::span<const Token> t, const Reading& reading, int depth) {
  if (t.empty() || depth > kMaxDepth) return unknown_statement();
  if (t[0].kind == TokenKind::punctuation && t[0].text == "(") {
    std::size_t k = 0;
    while (punct_at(t, k, "(")) ++k;
    if (word_at(t, k, "select") || word_at(t, k, "with") || word_at(t, k, "values") ||
        word_at(t, k, "table")) {
      return query(t, "select");
    }
    return unknown_statement();
  }
  if (t[0].kind != TokenKind::word) return unknown_statement();
  if (takes_rest_of_text(t) && !is_word(t[0], "create")) {
    Statement s = make("compound_statement", kUnknown);
    s.calls_unknown_functions = true;
    return s;
  }
  const Token& w = t[0];
  if (is_word(w, "select")) return query(t, "select");
  if (is_word(w, "values")) return query(t, "values");
  if (is_word(w, "table")) return query(t, "table");
  if (is_word(w, "with")) return with_statement(t, reading);
  if (is_word(w, "insert") || is_word(w, "replace")) return insert(t, to_lower(w.text), Facts{});
  if (is_word(w, "update")) return update(t, reading, Facts{});
  if (is_word(w, "delete")) return delete_statement(t, reading, Facts{});
  if (is_word(w, "load")) return load(t);
  if (is_word(w, "set")) return set_statement(t, reading, depth);
  if (is_word(w, "create")) return create(t, reading);
  if (is_word(w, "alter")) return alter(t);
  if (is_word(w, "drop")) return drop(t);
  if (is_word(w, "truncate")) {
    Statement s = make("truncate", kWrite);
    name_list(t, word_at(t, 1, "table") ? 2 : 1, s.tables_written);
    if (s.tables_written.empty()) return unknown_statement();
    return s;
  }
  if (is_word(w, "rename")) {
    if (word_at(t, 1, "user")) return make("rename_user", kDcl);
    if (!word_at(t, 1, "table") && !word_at(t, 1, "tables")) return unknown_statement();
    Statement s = make("rename_table", kDdl);
    for (std::size_t i = 2; i < t.size(); ++i) {
      std::size_t end = i;
      std::string name = table_name(t, i, end);
      if (!name.empty() && !is_word(t[i], "to")) add_name(s.tables_written, std::move(name));
      i = std::max(i, end - 1);
    }
    return s;
  }
  if (is_word(w, "begin")) {
    if (t.size() == 1 || (t.size() == 2 && is_word(t[1], "work"))) {
      return make("begin", kTransaction);
    }
    return unknown_statement();
  }
  if (is_word(w, "start") && word_at(t, 1, "transaction")) return transaction_start(t);
  if (is_word(w, "rollback")) {
    return make(find_top(t, 1, "to") < t.size() ? "rollback_to" : "rollback", kTransaction);
  }
  if (is_word(w, "xa")) {
    return make("xa", word_at(t, 1, "recover") ? (kTransaction | kAdmin) : kTransaction);
  }
  if (is_word(w, "lock")) return lock(t);
  if (is_word(w, "prepare")) {
    if (t.size() < 4 || !is_word(t[2], "from")) return unknown_statement();
    Statement s = prepared(t.subspan(3), reading, depth, "prepare");
    s.prepared_name = identifier_value(t[1]);
    return s;
  }
  if (is_word(w, "execute")) return execute(t, reading, depth);
  if (is_word(w, "explain") || is_word(w, "describe") || is_word(w, "desc")) {
    return explain(t, reading, depth, false);
  }
  if (is_word(w, "analyze")) {
    // MariaDB's ANALYZE stmt runs stmt; ANALYZE TABLE is maintenance.
    std::size_t i = 1;
    if (word_at(t, i, "format") && punct_at(t, i + 1, "=")) i += 3;
    if (!word_at(t, i, "table") && starts_statement(t, i)) return explain(t, reading, depth, true);
    return table_maintenance(t, "analyze_table", kAdmin, false);
  }
  if (is_word(w, "optimize")) return table_maintenance(t, "optimize_table", kAdmin, true);
  if (is_word(w, "repair")) return table_maintenance(t, "repair_table", kAdmin, true);
  if (is_word(w, "check")) return table_maintenance(t, "check_table", kAdmin, false);
  if (is_word(w, "call")) return call(t);
  if (is_word(w, "do")) {
    Facts f;
    walk(t.subspan(1), f);
    Statement s = make("do", kRead);
    apply_facts(s, f, true);
    return s;
  }
  if (is_word(w, "checksum")) return table_maintenance(t, "checksum_table", kRead, false);
  if (const SimpleRule* rule = find_simple(t)) return simple(t, *rule, reading);
  return unknown_statement();
}

}  // namespace portcullis::sql::mysql
