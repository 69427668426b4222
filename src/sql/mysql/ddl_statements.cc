// CREATE, ALTER and DROP: the object a statement names decides its kind and classes.
#include "sql/mysql/ddl_statements.h"

#include <algorithm>
#include <string>

#include "sql/mysql/statement_helpers.h"
#include "sql/mysql/token_walk.h"

namespace portcullis::sql::mysql {

namespace {

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

}  // namespace

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

Statement analyze_create(Tokens t) {
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
  return s;
}

Statement analyze_alter(Tokens t) {
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

Statement analyze_drop(Tokens t) {
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

}  // namespace portcullis::sql::mysql
