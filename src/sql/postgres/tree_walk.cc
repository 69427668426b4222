// The walk over a statement's parse tree. Every node is visited; what is recorded is decided
// by node type and field name, so a node type PostgreSQL adds is still walked.
#include "sql/postgres/tree_walk.h"

#include <optional>
#include <span>

#include "sql/postgres/catalog_rules.h"
#include "sql/postgres/constant_expressions.h"
#include "sql/postgres/parse_tree.h"
#include "sql/postgres/statement_rules.h"

namespace portcullis::sql::postgres {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

bool is_dml_node(std::string_view type) {
  return type == "InsertStmt" || type == "UpdateStmt" || type == "DeleteStmt" ||
         type == "MergeStmt";
}

namespace {

// The walk recurses once or twice per JSON level; simdjson's DOM already refuses documents
// nested deeper than 1024 levels, this bounds the walk on its own terms as well.
constexpr int kMaxTreeWalkDepth = 3000;

bool contains(std::span<const std::string_view> list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// Fields of a node that name the relation the statement changes (its target), as opposed
// to relations it reads.
bool is_written_field(std::string_view type, std::string_view key, bool copy_from) {
  if (key == "relation") {
    static constexpr std::string_view kTargets[] = {
        "InsertStmt",         "UpdateStmt",     "DeleteStmt", "MergeStmt",
        "CreateStmt",         "AlterTableStmt", "IndexStmt",  "RenameStmt",
        "RefreshMatViewStmt", "CreateTrigStmt", "RuleStmt",   "AlterObjectSchemaStmt",
        "AlterOwnerStmt",
    };
    return contains(kTargets, type) || (type == "CopyStmt" && copy_from);
  }
  if (key == "relations") return type == "TruncateStmt";
  if (key == "view") return type == "ViewStmt";
  if (key == "rel") return type == "IntoClause";
  if (key == "sequence") return type == "CreateSeqStmt" || type == "AlterSeqStmt";
  if (key == "table") return type == "CreatePolicyStmt" || type == "AlterPolicyStmt";
  if (key == "typevar") return type == "CompositeTypeStmt";
  return false;
}

class Walker {
 public:
  explicit Walker(Facts& facts) : facts_(facts) {}

  void walk(element e, std::string_view type, bool written) {
    if (++depth_ > kMaxTreeWalkDepth) {
      facts_.too_deep = true;
      --depth_;
      return;
    }
    if (e.type() == element_type::ARRAY) {
      array items;
      if (e.get_array().get(items) == SUCCESS) {
        for (element item : items) walk(item, {}, written);
      }
    } else if (e.type() == element_type::OBJECT) {
      object o;
      if (e.get_object().get(o) == SUCCESS) walk_object(o, type, written);
    }
    --depth_;
  }

  void walk_node(object node, std::string_view type) { walk_struct(node, type, false); }

 private:
  void record_dml(object o, std::string_view type) {
    ++facts_.dml_nodes;
    std::string kind = type == "InsertStmt"   ? "insert"
                       : type == "UpdateStmt" ? "update"
                       : type == "DeleteStmt" ? "delete"
                                              : "merge";
    if (type == "UpdateStmt" || type == "DeleteStmt") {
      element where;
      if (!get_field(o, "whereClause", where)) {
        facts_.dml_where_absent = true;
      } else if (auto v = const_bool(where, 0, true); v && *v) {
        facts_.dml_where_absent = true;
      }
    }
    if (type == "MergeStmt") record_merge_actions(o);
    if (type == "InsertStmt") {
      // INSERT ... ON CONFLICT DO UPDATE updates the rows it collides with.
      element conflict;
      object clause;
      if (get_field(o, "onConflictClause", conflict) &&
          conflict.get_object().get(clause) == SUCCESS &&
          str_field(clause, "action") == "ONCONFLICT_UPDATE")
        add_unique(facts_.dml_kinds, "update");
    }
    add_unique(facts_.dml_kinds, std::move(kind));
  }

  // MERGE ... WHEN MATCHED THEN UPDATE / DELETE: updates and deletes of their own, bounded
  // only by the join condition and the clause's own condition.
  void record_merge_actions(object o) {
    element join;
    const bool join_unbounded = !get_field(o, "joinCondition", join) || [&] {
      auto v = const_bool(join, 0, true);
      return v && *v;
    }();
    element clauses_el;
    array clauses;
    if (!get_field(o, "mergeWhenClauses", clauses_el) ||
        clauses_el.get_array().get(clauses) != SUCCESS)
      return;
    for (element c : clauses) {
      std::string_view type;
      object clause;
      if (!unwrap(c, type, clause) || type != "MergeWhenClause" || !bool_field(clause, "matched"))
        continue;
      std::string_view command = str_field(clause, "commandType");
      if (command != "CMD_UPDATE" && command != "CMD_DELETE") continue;
      add_unique(facts_.dml_kinds, command == "CMD_UPDATE" ? "update" : "delete");
      element condition;
      const bool clause_unbounded = !get_field(clause, "condition", condition) || [&] {
        auto v = const_bool(condition, 0, true);
        return v && *v;
      }();
      if (join_unbounded && clause_unbounded) facts_.dml_where_absent = true;
    }
  }

  void walk_object(object o, std::string_view type, bool written) {
    if (o.size() == 1) {
      auto f = *o.begin();
      if (is_node_name(f.key)) {
        walk(f.value, f.key, written);
        return;
      }
    }
    walk_struct(o, type, written);
  }

  void walk_struct(object o, std::string_view type, bool written) {
    element relname;
    if (type == "RangeVar" || get_field(o, "relname", relname)) {
      record_relation(o, written);
      return;
    }
    if (is_dml_node(type)) record_dml(o, type);
    if (type == "FuncCall") record_function(o);
    if (type == "ColumnRef") {
      record_column(o);
      return;
    }
    if (std::string_view alias = str_field(o, "aliasname"); !alias.empty())
      facts_.aliases.emplace_back(alias);
    if (type == "RangeFunction") {
      element alias_el;
      object alias;
      if (get_field(o, "alias", alias_el) && alias_el.get_object().get(alias) == SUCCESS)
        if (std::string_view name = str_field(alias, "aliasname"); !name.empty())
          facts_.function_aliases.emplace_back(name);
    }

    std::optional<std::string> saved_settings_name;
    const bool select = type == "SelectStmt";
    if (select) {
      saved_settings_name = std::move(settings_name_);
      settings_name_ = settings_row_name(o);
    }
    const std::size_t scope_mark = scope_.size();
    element with;
    if (get_field(o, "withClause", with)) walk_with(with, scope_mark);

    const bool copy_from = type == "CopyStmt" && bool_field(o, "is_from");
    for (auto f : o) {
      std::string_view key = f.key;
      if (key == "withClause") continue;
      if (key == "lockingClause") {
        array locks;
        if (f.value.get_array().get(locks) == SUCCESS && locks.size() > 0) facts_.locking = true;
        continue;  // lockedRels name FROM items, not relations
      }
      if (key == "intoClause") {
        facts_.into = true;
        walk(f.value, "IntoClause", false);
      } else if (key == "into" && type == "CreateTableAsStmt") {
        walk(f.value, "IntoClause", false);
      } else if (key == "funccall") {  // CallStmt's FuncCall is not wrapped
        walk(f.value, "FuncCall", false);
      } else if (key == "base" && type == "CreateForeignTableStmt") {
        walk(f.value, "CreateStmt", false);
      } else if (key == "larg" || key == "rarg") {
        walk(f.value, "SelectStmt", false);
      } else if ((key == "targetList" && type == "SelectStmt") || key == "returningList") {
        walk_targets(f.value);
      } else {
        walk(f.value, {}, is_written_field(type, key, copy_from));
      }
    }
    scope_.resize(scope_mark);
    if (select) settings_name_ = std::move(saved_settings_name);
  }

  // A target list entry that is only `*` or `t.*` is expanded by PostgreSQL into the columns
  // themselves: not a row value. Anything else in the list is walked as usual.
  void walk_targets(element list) {
    array items;
    if (list.get_array().get(items) != SUCCESS) return walk(list, {}, false);
    for (element item : items) {
      std::string_view type, val_type;
      object target, val;
      element fields_el;
      array fields;
      if (unwrap(item, type, target) && type == "ResTarget" &&
          unwrap_field(target, "val", val_type, val) && val_type == "ColumnRef" &&
          get_field(val, "fields", fields_el) && fields_el.get_array().get(fields) == SUCCESS &&
          fields.size() > 0) {
        element last;
        std::string_view last_type;
        object last_node;
        if (fields.at(fields.size() - 1).get(last) == SUCCESS &&
            unwrap(last, last_type, last_node) && last_type == "A_Star")
          continue;
      }
      walk(item, {}, false);
    }
  }

  // Column lineage for masking: the column's last name, and whether the reference is a whole
  // row (t.*, or a bare name that may be a relation; decided after the walk).
  void record_column(object o) {
    element fields_el;
    array fields;
    if (!get_field(o, "fields", fields_el) || fields_el.get_array().get(fields) != SUCCESS) return;
    std::size_t count = 0;
    std::string last_name;
    bool star = false;
    for (element f : fields) {
      ++count;
      std::string_view t;
      object n;
      star = false;
      if (!unwrap(f, t, n)) continue;
      if (t == "A_Star") {
        star = true;
      } else if (t == "String") {
        last_name = std::string(str_field(n, "sval"));
      }
    }
    if (star) {
      facts_.whole_row = true;
      return;
    }
    if (last_name.empty()) return;
    if (count == 1) add_unique(facts_.single_name_refs, last_name);
    add_unique(facts_.columns, std::move(last_name));
  }

  // WITH a AS (...), b AS (...): each CTE's query sees the CTEs before it (all of them when
  // RECURSIVE); the statement body sees all. Leaves all names in scope_ for the body.
  void walk_with(element with, std::size_t scope_mark) {
    object w;
    element ctes_el;
    array ctes;
    if (with.get_object().get(w) != SUCCESS || !get_field(w, "ctes", ctes_el) ||
        ctes_el.get_array().get(ctes) != SUCCESS) {
      return;
    }
    const bool recursive = bool_field(w, "recursive");
    std::vector<std::string_view> names;
    for (element cte : ctes) {
      std::string_view type;
      object node;
      if (unwrap(cte, type, node)) names.push_back(str_field(node, "ctename"));
    }
    std::size_t index = 0;
    for (element cte : ctes) {
      scope_.resize(scope_mark);
      std::size_t visible = recursive ? names.size() : std::min(index, names.size());
      scope_.insert(scope_.end(), names.begin(), names.begin() + static_cast<long>(visible));
      walk(cte, {}, false);
      ++index;
    }
    scope_.resize(scope_mark);
    scope_.insert(scope_.end(), names.begin(), names.end());
  }

  void record_relation(object o, bool written) {
    std::string_view catalog = str_field(o, "catalogname");
    std::string_view schema = str_field(o, "schemaname");
    std::string_view rel = str_field(o, "relname");
    if (rel.empty()) return;
    add_unique(facts_.relation_names, std::string(rel));
    element alias_el;
    object alias;
    if (get_field(o, "alias", alias_el) && alias_el.get_object().get(alias) == SUCCESS)
      add_unique(facts_.relation_names, std::string(str_field(alias, "aliasname")));
    // A bare name that a WITH in scope defines is that CTE, not a table. A statement's
    // target is always a table.
    if (!written && catalog.empty() && schema.empty() &&
        std::find(scope_.begin(), scope_.end(), rel) != scope_.end()) {
      return;
    }
    std::string name;
    if (!catalog.empty()) name.append(catalog).push_back('.');
    if (!schema.empty()) name.append(schema).push_back('.');
    name.append(rel);
    add_unique(written ? facts_.tables_written : facts_.tables_read, std::move(name));
  }

  void record_function(object o) {
    element funcname;
    if (!get_field(o, "funcname", funcname)) return;
    std::string last;
    std::string name = dotted_name(funcname, &last);
    if (name.empty()) return;
    std::string base = lower(last);
    const bool dangerous = is_dangerous_function(base);
    if (dangerous) facts_.dangerous_function = true;
    // pg_catalog's functions are named bare or as pg_catalog.f; any other schema is not it.
    const bool catalog = name == last || name == "pg_catalog." + last;
    add_unique(facts_.functions, std::move(name));
    if (!catalog) {
      facts_.unknown_function = true;
      return;
    }
    if (last == "set_config") {
      check_set_config(o);
    } else if (is_write_function(last)) {
      facts_.write_function = true;
    } else if (const SqlTextFunction* f = find_sql_text_function(last)) {
      // ts_rewrite(query, target, substitute) is plain; ts_rewrite(query, 'SELECT ...') runs SQL.
      check_sql_text(o, f->arg);
    } else if (last == "ts_rewrite") {
      if (arg_count(o) != 3) check_sql_text(o, 1);
    } else if (is_table_dump_function(last)) {
      auto table = arg_text(o, 0);
      if (table && !table->empty()) {
        add_unique(facts_.tables_read, regclass_name(*table));
      } else {
        facts_.unknown_function = true;
      }
    } else if (is_all_tables_function(last)) {
      facts_.touches_all_tables = true;
      facts_.unknown_function = true;
    } else if (!dangerous && !is_read_function(last)) {
      facts_.unknown_function = true;
    }
  }

  static std::size_t arg_count(object o) {
    element args_el;
    array args;
    if (!get_field(o, "args", args_el) || args_el.get_array().get(args) != SUCCESS) return 0;
    return args.size();
  }

  static std::optional<std::string> arg_text(object o, std::size_t index) {
    element args_el;
    array args;
    element arg;
    if (!get_field(o, "args", args_el) || args_el.get_array().get(args) != SUCCESS ||
        args.at(index).get(arg) != SUCCESS)
      return std::nullopt;
    return const_text(arg);
  }

  // 'Public.Orders' as regclass input reads: unquoted parts fold to lower case.
  static std::string regclass_name(const std::string& text) {
    std::string out;
    bool quoted = false;
    for (char c : text) {
      if (c == '"') {
        quoted = !quoted;
        continue;
      }
      out.push_back(quoted ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
  }

  // The SQL text argument: a constant is classified like any statement and its facts become
  // this statement's; anything computed could be any statement.
  void check_sql_text(object o, std::size_t index) {
    auto text = arg_text(o, index);
    if (!text) {
      facts_.unknown_function = true;
      facts_.calls_unknown_functions = true;
      return;
    }
    Classification inner = classify_nested(*text);
    if (inner.statements.empty()) facts_.unknown_function = true;
    for (const Statement& st : inner.statements) {
      facts_.nested_classes |= st.classes;
      for (const auto& t : st.tables_read) add_unique(facts_.tables_read, t);
      for (const auto& t : st.tables_written) add_unique(facts_.tables_written, t);
      for (const auto& f : st.functions) add_unique(facts_.functions, f);
      for (const auto& k : st.nested_kinds) add_unique(facts_.dml_kinds, k);
      for (const auto& c : st.columns_referenced) add_unique(facts_.columns, c);
      if (st.whole_row_reference) facts_.whole_row = true;
      if (st.where_absent) facts_.nested_where_absent = true;
      if (st.lifts_read_only) facts_.lifts_read_only = true;
      if (st.changes_text_reading) facts_.changes_text_reading = true;
      if (st.calls_unknown_functions) facts_.calls_unknown_functions = true;
      if (st.touches_all_tables) facts_.touches_all_tables = true;
      // A statement that is not a query (SET, VACUUM) cannot run inside a function.
      if (st.kind != "select" && !is_dml_node_kind(st.kind)) facts_.nested_classes |= kUnknown;
    }
  }

  static bool is_dml_node_kind(std::string_view kind) {
    return kind == "insert" || kind == "update" || kind == "delete" || kind == "merge";
  }

  // set_config(name, value, is_local): the same effects as SET name = value.
  void check_set_config(object o) {
    element args_el;
    array args;
    if (!get_field(o, "args", args_el) || args_el.get_array().get(args) != SUCCESS) return;
    std::optional<std::string> setting, value;
    std::size_t i = 0;
    for (element a : args) {
      if (i == 0) setting = const_text(a);
      if (i == 1) value = const_text(a);
      ++i;
    }
    if (!setting) {
      // SELECT set_config(name, ...) FROM pg_settings WHERE name = 'x' (pg_dump) names x.
      element first;
      if (args.at(0).get(first) == SUCCESS && is_name_column(first) && settings_name_)
        setting = settings_name_;
    }
    if (!setting) {  // a computed name could be any setting
      facts_.role_function = true;
      facts_.lifts_read_only = true;
      facts_.changes_text_reading = true;
      facts_.dangerous_function = true;
      return;
    }
    std::string name = lower(*setting);
    if (is_text_reading_setting(name)) facts_.changes_text_reading = true;
    if (is_role_setting(name)) {
      facts_.role_function = true;
    } else if (is_admin_setting(name)) {
      facts_.admin_setting = true;
    } else if (is_read_only_setting(name) && !(value && clearly_true(*value))) {
      facts_.lifts_read_only = true;
    } else {
      // Like SET name = value: a setting of this session only.
      facts_.session_function = true;
    }
  }

  static bool is_name_column(element e) {
    std::string_view type;
    object node;
    element fields;
    return unwrap(e, type, node) && type == "ColumnRef" && get_field(node, "fields", fields) &&
           dotted_name(fields) == "name";
  }

  // For SELECT ... FROM pg_settings WHERE name = 'x': the setting the column `name` holds.
  static std::optional<std::string> settings_row_name(object select) {
    element from_el, where;
    array from;
    if (!get_field(select, "fromClause", from_el) || from_el.get_array().get(from) != SUCCESS ||
        from.size() != 1 || !get_field(select, "whereClause", where))
      return std::nullopt;
    element rel;
    std::string_view type;
    object rv;
    if (from.at(0).get(rel) != SUCCESS || !unwrap(rel, type, rv) || type != "RangeVar" ||
        str_field(rv, "relname") != "pg_settings")
      return std::nullopt;
    if (auto schema = str_field(rv, "schemaname"); !schema.empty() && schema != "pg_catalog")
      return std::nullopt;
    object expr;
    element name_el, l, r;
    if (!unwrap(where, type, expr) || type != "A_Expr" || str_field(expr, "kind") != "AEXPR_OP" ||
        !get_field(expr, "name", name_el) || dotted_name(name_el) != "=" ||
        !get_field(expr, "lexpr", l) || !get_field(expr, "rexpr", r) || !is_name_column(l))
      return std::nullopt;
    return const_text(r);
  }

  Facts& facts_;
  std::optional<std::string> settings_name_;  // see settings_row_name
  std::vector<std::string_view> scope_;       // CTE names visible at this point of the walk
  int depth_ = 0;
};

}  // namespace

void walk_statement(Facts& facts, object node, std::string_view type) {
  Walker(facts).walk_node(node, type);
}

void walk_value(Facts& facts, element value, std::string_view type, bool written) {
  Walker(facts).walk(value, type, written);
}

}  // namespace portcullis::sql::postgres
