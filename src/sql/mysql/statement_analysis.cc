// The classification of one MySQL/MariaDB statement: the leading keywords choose the kind
// (the table in classifier.h), the token walk adds what the statement touches.
#include "sql/mysql/statement_analysis.h"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sql/mysql/constant_condition.h"
#include "sql/mysql/ddl_statements.h"
#include "sql/mysql/set_statement.h"
#include "sql/mysql/statement_helpers.h"
#include "sql/mysql/token_walk.h"

namespace portcullis::sql::mysql {

Statement unknown_statement() {
  Statement s;
  s.kind = "unknown";
  s.classes = kUnknown;
  return s;
}

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

namespace {

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
  // The server prepares exactly one statement, and never one of these (ER_UNSUPPORTED_PS).
  if (inner.statements.size() != 1 || !inner.parse_error.empty()) return s;
  Statement in = std::move(inner.statements[0]);
  for (std::string_view refused : {"prepare", "execute", "execute_immediate", "deallocate"})
    if (in.kind == refused) return s;
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

}  // namespace

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
  if (is_word(w, "set")) return analyze_set(t, reading, depth);
  if (is_word(w, "create")) return analyze_create(t);
  if (is_word(w, "alter")) return analyze_alter(t);
  if (is_word(w, "drop")) return analyze_drop(t);
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
