// The classification of one statement: the statement table and the walk's facts, plus the
// statements decided in code (SELECT, COPY, SET, EXPLAIN, transactions, DROP).
#include "sql/postgres/statement_analysis.h"

#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sql/postgres/catalog_rules.h"
#include "sql/postgres/constant_expressions.h"
#include "sql/postgres/parse_tree.h"
#include "sql/postgres/statement_rules.h"
#include "sql/postgres/tree_walk.h"

namespace portcullis::sql::postgres {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

Statement unknown_statement() {
  Statement s;
  s.kind = "unknown";
  s.classes = kUnknown;
  return s;
}

namespace {

bool contains_string(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The row format of a COPY to or from the client: FORMAT, DELIMITER, QUOTE, ESCAPE, NULL,
// HEADER, in the WITH (...) syntax and the old one alike (both give DefElems), the relation
// and the column list.
CopyOptions copy_options(object node) {
  CopyOptions copy;
  object relation;
  if (element e; get_field(node, "relation", e) && e.get_object().get(relation) == SUCCESS) {
    const auto schema = str_field(relation, "schemaname");
    copy.table = schema.empty()
                     ? std::string(str_field(relation, "relname"))
                     : std::string(schema) + "." + std::string(str_field(relation, "relname"));
  }
  element list;
  if (get_field(node, "attlist", list)) {
    for (element item : list.get_array()) {
      std::string_view type;
      object inner;
      if (unwrap(item, type, inner) && type == "String")
        copy.columns.emplace_back(str_field(inner, "sval"));
    }
  }
  element options;
  if (!get_field(node, "options", options)) return copy;
  for (element item : options.get_array()) {
    std::string_view type;
    object def;
    if (!unwrap(item, type, def) || type != "DefElem") continue;
    const auto name = str_field(def, "defname");
    std::string value;
    bool has_value = false;
    std::string_view arg_type;
    object arg;
    if (unwrap_field(def, "arg", arg_type, arg)) {
      has_value = true;
      if (arg_type == "String")
        value = str_field(arg, "sval");
      else if (arg_type == "Boolean")
        value = bool_field(arg, "boolval") ? "true" : "false";
      else if (arg_type == "Integer")
        value = std::to_string(int_field(arg, "ival"));
    }
    if (name == "format")
      copy.format = lower(value);
    else if (name == "delimiter")
      copy.delimiter = value;
    else if (name == "quote")
      copy.quote = value;
    else if (name == "escape")
      copy.escape = value;
    else if (name == "null")
      copy.null = value;
    else if (name == "header")
      copy.header = !has_value || clearly_true(value) || lower(value) == "match";
  }
  return copy;
}

void merge_objects(Statement& into, const Statement& from) {
  for (const auto& k : from.nested_kinds) add_unique(into.nested_kinds, k);
  for (const auto& t : from.tables_read) add_unique(into.tables_read, t);
  for (const auto& t : from.tables_written) add_unique(into.tables_written, t);
  for (const auto& f : from.functions) add_unique(into.functions, f);
  for (const auto& c : from.columns_referenced) add_unique(into.columns_referenced, c);
  if (from.whole_row_reference) into.whole_row_reference = true;
  if (from.touches_all_tables) into.touches_all_tables = true;
}

// The statement wrapped in field `key` (EXPLAIN's, PREPARE's, COPY's query).
std::optional<Statement> analyze_inner(object node, std::string_view key, int depth) {
  std::string_view type;
  object inner;
  if (!unwrap_field(node, key, type, inner)) return std::nullopt;
  return analyze(type, inner, depth + 1);
}

// Applies what the walk found that holds for any statement. `runs` is false for statements
// that only store expressions (a column default, a view's query): their functions run later,
// under whatever statement uses them.
void apply_facts(Statement& s, Facts& f, bool runs) {
  s.columns_referenced = std::move(f.columns);
  // A bare name that some relation or alias in the statement carries may be that row; a
  // column of the same name wins in PostgreSQL, but assuming the row is the safe side.
  // A name that only function calls carry as their alias is the function's own value
  // (`unnest(a.attoptions) o`), not a row of a relation.
  auto names_a_row = [&](const std::string& n) {
    if (contains_string(f.relation_names, n)) return true;
    return std::count(f.aliases.begin(), f.aliases.end(), n) >
           std::count(f.function_aliases.begin(), f.function_aliases.end(), n);
  };
  s.whole_row_reference =
      f.whole_row || std::any_of(f.single_name_refs.begin(), f.single_name_refs.end(), names_a_row);
  s.touches_all_tables = f.touches_all_tables;
  if (runs) {
    if (f.unknown_function) s.classes |= kUnknown;
    if (f.write_function) s.classes |= kWrite;
    if (f.session_function) s.classes |= kSession;
    if (f.admin_setting) s.classes |= kAdmin;
    s.classes |= f.nested_classes;
    if (f.nested_where_absent) s.where_absent = true;
    if (f.calls_unknown_functions) s.calls_unknown_functions = true;
  }
  s.tables_read = std::move(f.tables_read);
  s.tables_written = std::move(f.tables_written);
  s.functions = std::move(f.functions);
  for (auto& k : f.dml_kinds) add_unique(s.nested_kinds, std::move(k));
  if (f.dml_where_absent) s.where_absent = true;
  if (f.dangerous_function) s.classes |= kAdmin;
  if (f.role_function) s.classes |= kDcl;
  if (f.lifts_read_only) {
    s.lifts_read_only = true;
    s.classes |= kAdmin;
  }
  if (f.changes_text_reading) s.changes_text_reading = true;
  if (f.too_deep) s.classes |= kUnknown;
}

bool explain_analyzes(object node) {
  element opts_el;
  array opts;
  if (!get_field(node, "options", opts_el) || opts_el.get_array().get(opts) != SUCCESS) {
    return false;
  }
  for (element opt : opts) {
    std::string_view type;
    object def;
    if (!unwrap(opt, type, def) || type != "DefElem" || str_field(def, "defname") != "analyze") {
      continue;
    }
    element arg;
    if (!get_field(def, "arg", arg)) return true;  // bare ANALYZE
    // EXPLAIN (ANALYZE false): the arg is a String or Integer node, or a constant.
    std::string_view at;
    object an;
    std::string text;
    if (unwrap(arg, at, an)) {
      if (at == "String") text = std::string(str_field(an, "sval"));
      if (at == "Integer") {
        text = std::to_string(int_field(an, "ival"));
      }
      if (at == "Boolean") text = bool_field(an, "boolval") ? "true" : "false";
    }
    std::string t = lower(text);
    if (t == "false" || t == "off" || t == "0" || t == "no") continue;
    return true;  // anything else may run it
  }
  return false;
}

void classify_variable_set(Statement& s, object node) {
  std::string_view kind = str_field(node, "kind");
  std::string name = lower(str_field(node, "name"));
  // RESET goes back to the value the session started with, which the gateway checked.
  if (kind != "VAR_RESET" && kind != "VAR_RESET_ALL" && is_text_reading_setting(name))
    s.changes_text_reading = true;
  s.kind = kind == "VAR_RESET" || kind == "VAR_RESET_ALL" ? "reset" : "set";
  s.setting = kind == "VAR_RESET_ALL" ? "all" : name;
  s.classes = kSession;
  if (kind == "VAR_RESET_ALL") {
    // RESET ALL restores default_transaction_read_only to a value the gateway cannot see.
    s.lifts_read_only = true;
    return;
  }
  if (kind == "VAR_SET_MULTI") {
    // SET TRANSACTION ... / SET SESSION CHARACTERISTICS AS TRANSACTION ...
    if (name == "transaction") s.classes = kTransaction;
    element args_el;
    array args;
    if (get_field(node, "args", args_el) && args_el.get_array().get(args) == SUCCESS) {
      for (element a : args) {
        std::string_view type;
        object def;
        if (!unwrap(a, type, def) || type != "DefElem") continue;
        if (str_field(def, "defname") != "transaction_read_only") continue;
        element arg;
        auto value = get_field(def, "arg", arg) ? const_text(arg) : std::nullopt;
        if (!(value && clearly_true(*value))) s.lifts_read_only = true;
      }
    }
    return;
  }
  if (is_role_setting(name)) {
    s.classes = kDcl;
    return;
  }
  if (is_read_only_setting(name)) {
    std::optional<std::string> value;
    element args_el;
    array args;
    if (kind == "VAR_SET_VALUE" && get_field(node, "args", args_el) &&
        args_el.get_array().get(args) == SUCCESS && args.size() == 1) {
      element first;
      if (args.at(0).get(first) == SUCCESS) value = const_text(first);
    }
    if (!(value && clearly_true(*value))) {
      s.lifts_read_only = true;
      s.classes = kSession | kAdmin;
    }
    return;
  }
  if (is_admin_setting(name)) s.classes = kSession | kAdmin;
}

void classify_transaction(Statement& s, object node) {
  std::string_view kind = str_field(node, "kind");
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kKinds = {{
      {"TRANS_STMT_BEGIN", "begin"},
      {"TRANS_STMT_START", "start_transaction"},
      {"TRANS_STMT_COMMIT", "commit"},
      {"TRANS_STMT_ROLLBACK", "rollback"},
      {"TRANS_STMT_SAVEPOINT", "savepoint"},
      {"TRANS_STMT_RELEASE", "release"},
      {"TRANS_STMT_ROLLBACK_TO", "rollback_to"},
      {"TRANS_STMT_PREPARE", "prepare_transaction"},
      {"TRANS_STMT_COMMIT_PREPARED", "commit_prepared"},
      {"TRANS_STMT_ROLLBACK_PREPARED", "rollback_prepared"},
  }};
  s.kind = "transaction";
  for (const auto& [k, v] : kKinds) {
    if (k == kind) s.kind = std::string(v);
  }
  s.classes = kTransaction;
  // Two-phase commit acts on transactions other sessions prepared: not housekeeping.
  if (s.kind == "prepare_transaction" || s.kind == "commit_prepared" ||
      s.kind == "rollback_prepared")
    s.classes |= kAdmin;
  element opts_el;
  array opts;
  if (!get_field(node, "options", opts_el) || opts_el.get_array().get(opts) != SUCCESS) return;
  for (element opt : opts) {
    std::string_view type;
    object def;
    if (!unwrap(opt, type, def) || type != "DefElem") continue;
    if (str_field(def, "defname") != "transaction_read_only") continue;
    element arg;
    auto value = get_field(def, "arg", arg) ? const_text(arg) : std::nullopt;
    if (!(value && clearly_true(*value))) s.lifts_read_only = true;
  }
}

void classify_drop(Statement& s, object node, Facts& facts) {
  std::string_view objtype = str_field(node, "removeType");
  s.kind = "drop_" + object_kind(objtype);
  s.classes = is_server_object(objtype) ? (kDdl | kAdmin) : kDdl;
  if (!is_relation_object(objtype)) return;
  element objs_el;
  array objs;
  if (!get_field(node, "objects", objs_el) || objs_el.get_array().get(objs) != SUCCESS) return;
  for (element o : objs) {
    std::string_view type;
    object list;
    element items;
    if (unwrap(o, type, list) && type == "List" && get_field(list, "items", items)) {
      std::string name = dotted_name(items);
      if (!name.empty()) add_unique(facts.tables_written, std::move(name));
    }
  }
}

// Classes of a query that runs: reads, plus write for writable CTEs and row locks.
ClassSet query_classes(const Facts& f, bool root_is_dml) {
  ClassSet c = root_is_dml ? kWrite : kRead;
  if (!root_is_dml && f.dml_nodes > 0) c |= kWrite;
  if (f.locking) c |= kWrite;
  return c;
}

}  // namespace

Statement analyze(std::string_view type, object node, int depth) {
  if (depth > 8) return unknown_statement();  // EXPLAIN EXPLAIN ... cannot parse anyway
  Statement s;

  if (type == "ExplainStmt") {
    s.kind = "explain";
    auto inner = analyze_inner(node, "query", depth);
    if (!inner) return unknown_statement();
    s.inner_kind = inner->kind;
    merge_objects(s, *inner);
    if (explain_analyzes(node)) {
      s.classes = inner->classes;
      s.where_absent = inner->where_absent;
      s.lifts_read_only = inner->lifts_read_only;
      s.prepared_name = inner->prepared_name;
    } else {
      s.classes = kRead;
    }
    return s;
  }
  if (type == "PrepareStmt") {
    auto inner = analyze_inner(node, "query", depth);
    if (!inner) return unknown_statement();
    s = std::move(*inner);
    s.inner_kind = std::move(s.kind);
    s.kind = "prepare";
    s.prepared_name = std::string(str_field(node, "name"));
    s.setting.clear();
    return s;
  }
  if (type == "DeclareCursorStmt") {
    auto inner = analyze_inner(node, "query", depth);
    if (!inner) return unknown_statement();
    s = std::move(*inner);
    s.inner_kind = std::move(s.kind);
    s.kind = "declare_cursor";
    s.cursor_name = std::string(str_field(node, "portalname"));
    return s;
  }

  Facts facts;
  std::optional<Statement> inner;
  if (type == "CopyStmt" || type == "CreateTableAsStmt") {
    // The query inside is classified as a statement of its own; the walk covers the rest.
    inner = analyze_inner(node, "query", depth);
    for (auto f : node) {
      if (f.key == "query") continue;
      if (f.key == "into") {
        walk_value(facts, f.value, "IntoClause", false);
      } else {
        walk_value(facts, f.value, {}, f.key == "relation" && bool_field(node, "is_from"));
      }
    }
  } else {
    walk_statement(facts, node, type);
  }

  if (type == "SelectStmt") {
    s.kind = facts.into ? "select_into" : "select";
    s.classes = query_classes(facts, false);
    if (facts.into) s.classes |= kWrite | kDdl;
  } else if (type == "InsertStmt" || type == "UpdateStmt" || type == "DeleteStmt" ||
             type == "MergeStmt") {
    s.kind = find_rule(type)->kind;
    s.classes = kWrite;
    if (type == "UpdateStmt" || type == "DeleteStmt") {
      element where;
      if (!get_field(node, "whereClause", where)) {
        s.where_absent = true;
      } else {
        auto v = const_bool(where, 0, true);
        s.where_absent = v && *v;
      }
    }
  } else if (type == "CopyStmt") {
    const bool from = bool_field(node, "is_from");
    const bool program = bool_field(node, "is_program");
    s.kind = program ? "copy_program" : (from ? "copy_from" : "copy_to");
    s.classes = from ? kWrite : kRead;
    if (inner) {
      s.classes = inner->classes;
      s.where_absent = inner->where_absent;
      s.inner_kind = inner->kind;
    }
    // PROGRAM runs a shell command on the server; a file name is a server-side file, named
    // by the nested kind copy_file so that a guardrail can name it.
    element filename;
    if (program || get_field(node, "filename", filename)) s.classes |= kAdmin;
    if (!program && get_field(node, "filename", filename)) add_unique(s.nested_kinds, "copy_file");
    if (!program && !get_field(node, "filename", filename)) s.copy = copy_options(node);
  } else if (type == "CreateTableAsStmt") {
    std::string_view objtype = str_field(node, "objtype");
    s.kind = bool_field(node, "is_select_into") ? "select_into"
             : objtype == "OBJECT_MATVIEW"      ? "create_materialized_view"
                                                : "create_table_as";
    s.classes = kDdl | kWrite;
    if (inner) {
      s.classes |= inner->classes;
      s.inner_kind = inner->kind;
      s.prepared_name = inner->prepared_name;
      s.where_absent = inner->where_absent;
    }
  } else if (type == "DropStmt") {
    classify_drop(s, node, facts);
  } else if (type == "GrantStmt") {
    s.kind = bool_field(node, "is_grant") ? "grant" : "revoke";
    s.classes = kDcl;
  } else if (type == "GrantRoleStmt") {
    s.kind = bool_field(node, "is_grant") ? "grant_role" : "revoke_role";
    s.classes = kDcl;
  } else if (type == "VariableSetStmt") {
    classify_variable_set(s, node);
  } else if (type == "VariableShowStmt") {
    s.kind = "show";
    s.setting = lower(str_field(node, "name"));
    s.classes = kSession;
  } else if (type == "TransactionStmt") {
    classify_transaction(s, node);
  } else if (type == "VacuumStmt") {
    s.kind = bool_field(node, "is_vacuumcmd") ? "vacuum" : "analyze";
    s.classes = kAdmin;
  } else if (type == "FetchStmt") {
    s.kind = bool_field(node, "ismove") ? "move" : "fetch";
    s.cursor_name = std::string(str_field(node, "portalname"));
    s.classes = kRead;
  } else if (type == "ClosePortalStmt") {
    s.kind = "close";
    s.cursor_name = std::string(str_field(node, "portalname"));  // empty for CLOSE ALL
    s.classes = kRead;
  } else if (type == "LockStmt") {
    // ACCESS SHARE (mode 1) is the lock a SELECT takes: pg_dump locks every table so.
    s.kind = "lock";
    s.classes = int_field(node, "mode") == 1 ? kRead : kWrite;
  } else if (type == "ExecuteStmt") {
    // The session knows what the prepared statement is and decides it as that.
    s.kind = "execute";
    s.prepared_name = std::string(str_field(node, "name"));
    s.classes = 0;
  } else if (type == "AlterSystemStmt" || type == "AlterRoleSetStmt" ||
             type == "AlterDatabaseSetStmt") {
    const NodeRule* rule = find_rule(type);
    s.kind = rule->kind.empty() ? snake_kind(type) : std::string(rule->kind);
    s.classes = rule->classes;
    // ALTER ... SET default_transaction_read_only = off reaches later sessions.
    object set;
    element set_el;
    if (get_field(node, "setstmt", set_el) && set_el.get_object().get(set) == SUCCESS) {
      Statement inner;
      classify_variable_set(inner, set);
      s.setting = std::move(inner.setting);
      s.lifts_read_only = inner.lifts_read_only;
      s.changes_text_reading = inner.changes_text_reading;
    }
  } else if (type == "DiscardStmt") {
    s.kind = "discard";
    s.classes = kSession;
    // DISCARD ALL runs RESET ALL.
    if (str_field(node, "target") == "DISCARD_ALL") s.lifts_read_only = true;
  } else if (type == "DeallocateStmt") {
    s.kind = "deallocate";
    s.prepared_name = std::string(str_field(node, "name"));
    s.classes = kSession;
  } else if (type == "DefineStmt") {
    s.kind = "create_" + object_kind(str_field(node, "kind"));
    s.classes = kDdl;
  } else if (const NodeRule* rule = find_rule(type)) {
    s.kind = rule->kind.empty() ? snake_kind(type) : std::string(rule->kind);
    s.classes = rule->classes;
  } else {
    s.kind = snake_kind(type);
    // A statement type this table does not know: DDL by its name, otherwise unplaceable.
    bool ddl_like =
        type.starts_with("Create") || type.starts_with("Alter") || type.starts_with("Drop");
    s.classes = ddl_like ? kDdl : kUnknown;
  }

  const bool runs = type == "SelectStmt" || is_dml_node(type) || type == "CopyStmt" ||
                    type == "CreateTableAsStmt" || type == "ExecuteStmt";
  apply_facts(s, facts, runs);
  if (inner) merge_objects(s, *inner);
  // A DO block's body is procedural code the parse tree does not open.
  if (type == "DoStmt") s.calls_unknown_functions = true;
  return s;
}

}  // namespace portcullis::sql::postgres
