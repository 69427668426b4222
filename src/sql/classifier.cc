// PostgreSQL statement classifier. libpg_query parses the text with PostgreSQL's own grammar
// and prints the raw parse tree as JSON; simdjson reads it (MEASURED.md: the cheapest walkable
// tree) and one generic walk over every node collects relations, function calls, writable
// CTEs and row locks. The rules are documented in docs/policy.md, "Statement classification".
#include "sql/classifier.h"

#include <pg_query.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sql/secret_redaction.h"

namespace portcullis::sql {

namespace {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr ClassSet kRead = static_cast<ClassSet>(StatementClass::read);
constexpr ClassSet kWrite = static_cast<ClassSet>(StatementClass::write);
constexpr ClassSet kDdl = static_cast<ClassSet>(StatementClass::ddl);
constexpr ClassSet kDcl = static_cast<ClassSet>(StatementClass::dcl);
constexpr ClassSet kAdmin = static_cast<ClassSet>(StatementClass::admin);
constexpr ClassSet kTransaction = static_cast<ClassSet>(StatementClass::transaction);
constexpr ClassSet kSession = static_cast<ClassSet>(StatementClass::session);
constexpr ClassSet kUnknown = static_cast<ClassSet>(StatementClass::unknown);

// The walk recurses once or twice per JSON level; simdjson's DOM already refuses documents
// nested deeper than 1024 levels, this bounds the walk on its own terms as well.
constexpr int kMaxWalkDepth = 3000;

// Functions that reach the server's files, other sessions, the server's configuration or
// other servers (docs/policy.md). Matched on the last name component, case-insensitively.
constexpr std::string_view kDangerousFunctions[] = {
    "pg_read_file",
    "pg_read_binary_file",
    "pg_stat_file",
    "pg_logdir_ls",
    "lo_import",
    "lo_export",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_log_backend_memory_contexts",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_promote",
    "pg_wal_replay_pause",
    "pg_wal_replay_resume",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_create_physical_replication_slot",
    "pg_create_logical_replication_slot",
    "pg_drop_replication_slot",
    "pg_copy_physical_replication_slot",
    "pg_copy_logical_replication_slot",
    "pg_replication_slot_advance",
    "pg_logical_emit_message",
    "pg_import_system_collations",
    "pg_stat_statements_reset",
    "pg_current_logfile",
};

// The pg_catalog functions a read may call: no side effects, no SQL given as text, no server
// files (scripts/generate_read_functions.sh generates the list from PostgreSQL 15's catalog and
// its reviewed exclusions and inclusions). Sorted, for a binary search.
constexpr std::string_view kReadFunctions[] = {
#include "sql/read_functions.inc"
};

// pg_catalog functions that change data: sequences, large objects, notifications.
constexpr std::string_view kWriteFunctions[] = {
    "nextval", "setval",      "lo_create",     "lo_creat",  "lo_from_bytea", "lo_put",
    "lowrite", "lo_truncate", "lo_truncate64", "lo_unlink", "pg_notify",
};

// Functions that run SQL given as text, and which argument holds it.
struct SqlTextFunction {
  std::string_view name;
  std::size_t arg;
};
constexpr SqlTextFunction kSqlTextFunctions[] = {
    {"query_to_xml", 0},
    {"query_to_xmlschema", 0},
    {"query_to_xml_and_xmlschema", 0},
    {"ts_stat", 0},
};

// Functions that read the table their first argument names (a regclass).
constexpr std::string_view kTableDumpFunctions[] = {"table_to_xml", "table_to_xmlschema",
                                                    "table_to_xml_and_xmlschema"};

// Functions that read every table of a schema or of the database.
constexpr std::string_view kAllTablesFunctions[] = {
    "schema_to_xml",   "schema_to_xmlschema",   "schema_to_xml_and_xmlschema",
    "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
};

// Nested SQL text (query_to_xml('SELECT query_to_xml(...)')) is classified this deep at most;
// deeper is unknown.
constexpr int kMaxSqlTextNesting = 4;

// Families of dangerous functions, matched as prefixes: every pg_ls_*dir listing, the
// adminpack pg_file_* writers, dblink*, pg_stat_reset*.
constexpr std::string_view kDangerousFunctionPrefixes[] = {
    "pg_ls_", "pg_file_", "dblink", "pg_stat_reset", "pg_read_",
};

// Settings whose change belongs to a server administrator: they switch off triggers and
// constraints, touch the server log, or load code (docs/policy.md). Exact names.
constexpr std::string_view kAdminSettings[] = {
    "session_replication_role",
    "lo_compat_privileges",
    "allow_system_table_mods",
    "allow_in_place_tablespaces",
    "ignore_system_indexes",
    "ignore_checksum_failure",
    "ignore_invalid_pages",
    "zero_damaged_pages",
    "dynamic_library_path",
    "local_preload_libraries",
    "session_preload_libraries",
    "shared_preload_libraries",
    "backtrace_functions",
    "exit_on_error",
    "max_stack_depth",
    "temp_file_limit",
    "commit_delay",
    "wal_compression",
    "full_page_writes",
    "update_process_title",
};

// Setting-name prefixes of the same kind: logging, debugging and tracing knobs.
constexpr std::string_view kAdminSettingPrefixes[] = {
    "log_", "debug_", "trace_", "track_", "wal_",
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with_any(std::string_view s, std::span<const std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](std::string_view p) { return s.starts_with(p); });
}

bool contains(std::span<const std::string_view> list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool is_read_only_setting(std::string_view name) {
  return name == "default_transaction_read_only" || name == "transaction_read_only";
}

// Settings that change how the server reads query text (GUC_REPORT, so the backend also
// announces every change in a ParameterStatus).
bool is_text_reading_setting(std::string_view name) {
  return name == "client_encoding" || name == "standard_conforming_strings" || name == "names";
}

bool is_role_setting(std::string_view name) {
  return name == "role" || name == "session_authorization";
}

bool is_admin_setting(std::string_view name) {
  return contains(kAdminSettings, name) || starts_with_any(name, kAdminSettingPrefixes);
}

bool is_dangerous_function(std::string_view name) {
  return contains(kDangerousFunctions, name) || starts_with_any(name, kDangerousFunctionPrefixes);
}

// Exact names: the parser has already folded unquoted names to lower case, and a quoted
// "Now" is not pg_catalog's now.
bool is_read_function(std::string_view name) {
  return std::binary_search(std::begin(kReadFunctions), std::end(kReadFunctions), name);
}

const SqlTextFunction* find_sql_text_function(std::string_view name) {
  for (const auto& f : kSqlTextFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Classifies SQL text found inside a statement (query_to_xml's argument). Defined below.
Classification classify_nested(std::string_view sql);

// True only when PostgreSQL's parse_bool would read `text` as true: any other text (off,
// false, 0, DEFAULT, an expression) is treated as turning read-only off (fail closed).
bool clearly_true(std::string_view text) {
  std::string t = lower(text);
  auto b = t.find_first_not_of(" \t\r\n");
  auto e = t.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return false;
  t = t.substr(b, e - b + 1);
  return t == "on" || t == "1" || std::string_view("true").starts_with(t) ||
         std::string_view("yes").starts_with(t);
}

bool contains_string(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void add_unique(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

// --- small readers over the DOM ---------------------------------------------------------

bool get_field(object o, std::string_view key, element& out) {
  return o.at_key(key).get(out) == SUCCESS;
}

std::string_view str_field(object o, std::string_view key) {
  element e;
  std::string_view s;
  if (get_field(o, key, e) && e.get_string().get(s) == SUCCESS) return s;
  return {};
}

bool bool_field(object o, std::string_view key) {
  element e;
  bool b = false;
  if (get_field(o, key, e) && e.get_bool().get(b) == SUCCESS) return b;
  return false;
}

// Integer fields that equal 0 are left out of libpg_query's JSON.
int64_t int_field(object o, std::string_view key) {
  element e;
  int64_t i = 0;
  if (get_field(o, key, e) && e.get_int64().get(i) == SUCCESS) return i;
  return 0;
}

bool is_node_name(std::string_view key) {
  return !key.empty() && key.front() >= 'A' && key.front() <= 'Z';
}

// {"SelectStmt": {...}} → ("SelectStmt", {...}).
bool unwrap(element e, std::string_view& type, object& inner) {
  object o;
  if (e.get_object().get(o) != SUCCESS || o.size() != 1) return false;
  auto f = *o.begin();
  if (!is_node_name(f.key)) return false;
  type = f.key;
  return f.value.get_object().get(inner) == SUCCESS;
}

bool unwrap_field(object o, std::string_view key, std::string_view& type, object& inner) {
  element e;
  return get_field(o, key, e) && unwrap(e, type, inner);
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

// The value of an A_Const (possibly under a TypeCast) as text: "1", "off", "true".
// Empty optional for anything that is not a constant, or a NULL constant.
std::optional<std::string> const_text(element e) {
  std::string_view type;
  object node;
  if (!unwrap(e, type, node)) return std::nullopt;
  if (type == "TypeCast") {
    element arg;
    if (!get_field(node, "arg", arg)) return std::nullopt;
    return const_text(arg);
  }
  if (type != "A_Const" || bool_field(node, "isnull")) return std::nullopt;
  element v;
  object inner;
  if (get_field(node, "sval", v) && v.get_object().get(inner) == SUCCESS) {
    return std::string(str_field(inner, "sval"));
  }
  if (get_field(node, "ival", v) && v.get_object().get(inner) == SUCCESS) {
    return std::to_string(int_field(inner, "ival"));
  }
  if (get_field(node, "fval", v) && v.get_object().get(inner) == SUCCESS) {
    return std::string(str_field(inner, "fval"));
  }
  if (get_field(node, "boolval", v) && v.get_object().get(inner) == SUCCESS) {
    return bool_field(inner, "boolval") ? "true" : "false";
  }
  if (get_field(node, "bsval", v) && v.get_object().get(inner) == SUCCESS) {
    return std::string(str_field(inner, "bsval"));
  }
  return std::nullopt;
}

bool is_numeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// The dotted name in a list of String nodes: ["pg_catalog", "pg_read_file"].
std::string dotted_name(element list, std::string* last = nullptr) {
  std::string name;
  array items;
  if (list.get_array().get(items) != SUCCESS) return name;
  for (element item : items) {
    std::string_view type;
    object node;
    if (!unwrap(item, type, node) || type != "String") continue;
    std::string_view part = str_field(node, "sval");
    if (!name.empty()) name += '.';
    name += part;
    if (last != nullptr) *last = std::string(part);
  }
  return name;
}

// Value of a constant boolean expression, when the expression is one of the simple forms
// people write to mean "every row": true, 't', 1::bool, 1=1, 'a'='a', 2>1, x=x, NOT false,
// a OR (1=1), NULL IS NULL. Anything else: nullopt (not known to be constant).
// With `params_true`, a bound parameter ($1) counts as possibly true: a WHERE that a bound
// value can make constant true is treated as absent.
std::optional<bool> const_bool(element e, int depth = 0, bool params_true = false);

bool is_param(element e) {
  std::string_view type;
  object node;
  if (!unwrap(e, type, node)) return false;
  if (type == "ParamRef") return true;
  element arg;
  return type == "TypeCast" && get_field(node, "arg", arg) && is_param(arg);
}

bool same_column(object a, object b) {
  element fa, fb;
  if (!get_field(a, "fields", fa) || !get_field(b, "fields", fb)) return false;
  std::string na = dotted_name(fa), nb = dotted_name(fb);
  return !na.empty() && na == nb;
}

std::optional<bool> compare_consts(std::string_view op, element l, element r, bool params_true) {
  if (params_true && (is_param(l) || is_param(r)) && (is_param(l) || const_text(l)) &&
      (is_param(r) || const_text(r)))
    return true;  // $1 = $2, $1 = 1: the caller's values decide, so it may hold for every row
  std::string_view lt, rt;
  object ln, rn;
  if (unwrap(l, lt, ln) && unwrap(r, rt, rn) && lt == "ColumnRef" && rt == "ColumnRef" &&
      same_column(ln, rn)) {
    // x = x holds for every row where x is not null.
    if (op == "=" || op == "<=" || op == ">=") return true;
    return std::nullopt;
  }
  auto a = const_text(l), b = const_text(r);
  if (!a || !b) return std::nullopt;
  int cmp = 0;
  if (is_numeric(*a) && is_numeric(*b)) {
    double x = std::strtod(a->c_str(), nullptr), y = std::strtod(b->c_str(), nullptr);
    cmp = x < y ? -1 : (x > y ? 1 : 0);
  } else {
    cmp = a->compare(*b);
    cmp = cmp < 0 ? -1 : (cmp > 0 ? 1 : 0);
  }
  if (op == "=") return cmp == 0;
  if (op == "<>" || op == "!=") return cmp != 0;
  if (op == "<") return cmp < 0;
  if (op == ">") return cmp > 0;
  if (op == "<=") return cmp <= 0;
  if (op == ">=") return cmp >= 0;
  return std::nullopt;
}

std::optional<bool> const_bool(element e, int depth, bool params_true) {
  if (depth > 64) return std::nullopt;
  if (params_true && is_param(e)) return true;
  std::string_view type;
  object node;
  if (!unwrap(e, type, node)) return std::nullopt;
  if (type == "BooleanTest") {
    element arg;
    if (!get_field(node, "arg", arg)) return std::nullopt;
    auto v = const_bool(arg, depth + 1, params_true);
    if (!v) return std::nullopt;
    std::string_view test = str_field(node, "booltesttype");
    if (test == "IS_TRUE" || test == "IS_NOT_FALSE") return *v;
    if (test == "IS_FALSE" || test == "IS_NOT_TRUE") return !*v;
    return std::nullopt;
  }
  if (type == "A_Const" || type == "TypeCast") {
    auto text = const_text(e);
    if (!text) return std::nullopt;
    if (clearly_true(*text)) return true;
    std::string t = lower(*text);
    if (t == "false" || t == "f" || t == "off" || t == "0" || t == "no" || t == "n") return false;
    return std::nullopt;
  }
  if (type == "A_Expr") {
    if (str_field(node, "kind") != "AEXPR_OP") return std::nullopt;
    element name, l, r;
    if (!get_field(node, "name", name) || !get_field(node, "lexpr", l) ||
        !get_field(node, "rexpr", r)) {
      return std::nullopt;
    }
    std::string last;
    dotted_name(name, &last);
    return compare_consts(last, l, r, params_true);
  }
  if (type == "BoolExpr") {
    std::string_view op = str_field(node, "boolop");
    element args_el;
    array args;
    if (!get_field(node, "args", args_el) || args_el.get_array().get(args) != SUCCESS) {
      return std::nullopt;
    }
    if (op == "NOT_EXPR") {
      for (element a : args) {
        auto v = const_bool(a, depth + 1, params_true);
        if (v) return !*v;
        return std::nullopt;
      }
      return std::nullopt;
    }
    bool is_or = op == "OR_EXPR";
    bool all_known = true;
    for (element a : args) {
      auto v = const_bool(a, depth + 1, params_true);
      if (v && *v == is_or) return is_or;  // OR with a true arm, AND with a false arm
      if (!v) all_known = false;
    }
    if (all_known) return !is_or;
    return std::nullopt;
  }
  if (type == "NullTest") {
    element arg;
    if (!get_field(node, "arg", arg)) return std::nullopt;
    std::string_view at;
    object an;
    if (!unwrap(arg, at, an) || at != "A_Const") return std::nullopt;
    bool is_null = bool_field(an, "isnull");
    return str_field(node, "nulltesttype") == "IS_NOT_NULL" ? !is_null : is_null;
  }
  return std::nullopt;
}

// --- the walk ---------------------------------------------------------------------------

// What one walk over a statement's tree found.
struct Facts {
  std::vector<std::string> tables_read;
  std::vector<std::string> tables_written;
  std::vector<std::string> functions;
  int dml_nodes = 0;  // INSERT/UPDATE/DELETE/MERGE nodes anywhere, the root included
  std::vector<std::string> dml_kinds;  // their kinds
  bool dml_where_absent = false;       // one of them is an UPDATE/DELETE without a real WHERE
  bool locking = false;                // FOR UPDATE / FOR SHARE anywhere
  bool into = false;                   // SELECT ... INTO
  bool dangerous_function = false;
  bool role_function = false;         // set_config('role' | 'session_authorization', ...)
  bool lifts_read_only = false;       // set_config('default_transaction_read_only', 'off', ...)
  bool changes_text_reading = false;  // set_config('client_encoding' | ..., ...)
  bool too_deep = false;
  bool unknown_function = false;  // a function not on the read list (user-defined, volatile)
  bool write_function = false;    // nextval, setval, a large-object writer, pg_notify
  bool session_function = false;  // set_config of a harmless setting
  bool admin_setting = false;     // set_config of an administrator's setting
  bool touches_all_tables = false;
  bool calls_unknown_functions = false;
  ClassSet nested_classes = 0;  // of SQL text the statement runs (query_to_xml's argument)
  bool nested_where_absent = false;
  std::vector<std::string> columns;           // last names of column references
  std::vector<std::string> single_name_refs;  // column references of one name: maybe a row
  std::vector<std::string> relation_names;    // relations and aliases: what a row may name
  // Aliases of subqueries, CTE references and function calls, once per occurrence; those of
  // function calls apart: a function's row is its own result, whose arguments are walked.
  std::vector<std::string> aliases;
  std::vector<std::string> function_aliases;
  bool whole_row = false;
};

bool is_dml_node(std::string_view type) {
  return type == "InsertStmt" || type == "UpdateStmt" || type == "DeleteStmt" ||
         type == "MergeStmt";
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
    if (++depth_ > kMaxWalkDepth) {
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
    } else if (contains(kWriteFunctions, last)) {
      facts_.write_function = true;
    } else if (const SqlTextFunction* f = find_sql_text_function(last)) {
      // ts_rewrite(query, target, substitute) is plain; ts_rewrite(query, 'SELECT ...') runs SQL.
      check_sql_text(o, f->arg);
    } else if (last == "ts_rewrite") {
      if (arg_count(o) != 3) check_sql_text(o, 1);
    } else if (contains(kTableDumpFunctions, last)) {
      auto table = arg_text(o, 0);
      if (table && !table->empty()) {
        add_unique(facts_.tables_read, regclass_name(*table));
      } else {
        facts_.unknown_function = true;
      }
    } else if (contains(kAllTablesFunctions, last)) {
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

// --- statement kinds --------------------------------------------------------------------

// PostgreSQL node type name → snake_case without the "Stmt" suffix: AlterTableStmt →
// alter_table, AlterTSConfigurationStmt → alter_ts_configuration.
std::string snake_kind(std::string_view type) {
  if (type.ends_with("Stmt")) type.remove_suffix(4);
  std::string out;
  for (std::size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0) {
      char prev = type[i - 1];
      bool prev_lower = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
      bool next_lower = i + 1 < type.size() && type[i + 1] >= 'a' && type[i + 1] <= 'z';
      bool prev_upper = prev >= 'A' && prev <= 'Z';
      if (prev_lower || (prev_upper && next_lower)) out.push_back('_');
    }
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

struct NodeRule {
  std::string_view type;
  std::string_view kind;  // empty: snake_kind(type)
  ClassSet classes;
};

// Kinds and classes of every PostgreSQL 15 statement node whose classes do not depend on
// its contents. Statements decided in code (SELECT, COPY, SET, EXPLAIN, ...) are not here.
constexpr NodeRule kNodeRules[] = {
    {"InsertStmt", "insert", kWrite},
    {"UpdateStmt", "update", kWrite},
    {"DeleteStmt", "delete", kWrite},
    {"MergeStmt", "merge", kWrite},
    {"TruncateStmt", "truncate", kWrite},
    {"FetchStmt", "", kRead},
    {"CreateStmt", "create_table", kDdl},
    {"CreateForeignTableStmt", "", kDdl},
    {"IndexStmt", "create_index", kDdl},
    {"ViewStmt", "create_view", kDdl},
    {"CreateSeqStmt", "create_sequence", kDdl},
    {"AlterSeqStmt", "alter_sequence", kDdl},
    {"CreateTrigStmt", "create_trigger", kDdl},
    {"RuleStmt", "create_rule", kDdl},
    {"RefreshMatViewStmt", "refresh_materialized_view", kDdl},
    {"CreateStatsStmt", "create_statistics", kDdl},
    {"AlterStatsStmt", "alter_statistics", kDdl},
    {"CompositeTypeStmt", "create_type", kDdl},
    {"CreateEnumStmt", "", kDdl},
    {"CreateRangeStmt", "", kDdl},
    {"CreateDomainStmt", "", kDdl},
    {"CreateFunctionStmt", "", kDdl},
    {"CreateSchemaStmt", "", kDdl},
    {"CreateCastStmt", "", kDdl},
    {"CreateConversionStmt", "", kDdl},
    {"CreateOpClassStmt", "", kDdl},
    {"CreateOpFamilyStmt", "", kDdl},
    {"CreatePolicyStmt", "", kDdl},
    {"CreatePublicationStmt", "", kDdl},
    {"CreateTransformStmt", "", kDdl},
    {"AlterTableStmt", "alter_table", kDdl},
    {"AlterCollationStmt", "", kDdl},
    {"AlterDomainStmt", "", kDdl},
    {"AlterEnumStmt", "", kDdl},
    {"AlterFunctionStmt", "", kDdl},
    {"AlterObjectDependsStmt", "", kDdl},
    {"AlterObjectSchemaStmt", "", kDdl},
    {"AlterOpFamilyStmt", "", kDdl},
    {"AlterOperatorStmt", "", kDdl},
    {"AlterPolicyStmt", "", kDdl},
    {"AlterPublicationStmt", "", kDdl},
    {"AlterTSConfigurationStmt", "", kDdl},
    {"AlterTSDictionaryStmt", "", kDdl},
    {"AlterTypeStmt", "", kDdl},
    {"ReplicaIdentityStmt", "", kDdl},
    {"RenameStmt", "", kDdl},
    {"CommentStmt", "", kDdl},
    {"SecLabelStmt", "security_label", kDdl},
    {"AlterOwnerStmt", "", kDdl | kDcl},
    {"CreatedbStmt", "create_database", kDdl | kAdmin},
    {"DropdbStmt", "drop_database", kDdl | kAdmin},
    {"AlterDatabaseStmt", "", kDdl | kAdmin},
    {"AlterDatabaseSetStmt", "", kDdl | kAdmin},
    {"AlterDatabaseRefreshCollStmt", "", kDdl | kAdmin},
    {"CreateExtensionStmt", "", kDdl | kAdmin},
    {"AlterExtensionStmt", "", kDdl | kAdmin},
    {"AlterExtensionContentsStmt", "", kDdl | kAdmin},
    {"CreateEventTrigStmt", "create_event_trigger", kDdl | kAdmin},
    {"AlterEventTrigStmt", "alter_event_trigger", kDdl | kAdmin},
    {"CreatePLangStmt", "create_language", kDdl | kAdmin},
    {"CreateAmStmt", "create_access_method", kDdl | kAdmin},
    {"CreateFdwStmt", "create_foreign_data_wrapper", kDdl | kAdmin},
    {"AlterFdwStmt", "alter_foreign_data_wrapper", kDdl | kAdmin},
    {"CreateForeignServerStmt", "", kDdl | kAdmin},
    {"AlterForeignServerStmt", "", kDdl | kAdmin},
    {"CreateUserMappingStmt", "", kDdl | kAdmin},
    {"AlterUserMappingStmt", "", kDdl | kAdmin},
    {"DropUserMappingStmt", "", kDdl | kAdmin},
    {"ImportForeignSchemaStmt", "", kDdl | kAdmin},
    {"CreateSubscriptionStmt", "", kDdl | kAdmin},
    {"AlterSubscriptionStmt", "", kDdl | kAdmin},
    {"DropSubscriptionStmt", "", kDdl | kAdmin},
    {"CreateTableSpaceStmt", "create_tablespace", kDdl | kAdmin},
    {"DropTableSpaceStmt", "drop_tablespace", kDdl | kAdmin},
    {"AlterTableSpaceOptionsStmt", "alter_tablespace", kDdl | kAdmin},
    {"AlterTableMoveAllStmt", "alter_table_move_all", kDdl | kAdmin},
    {"CreateRoleStmt", "", kDcl},
    {"AlterRoleStmt", "", kDcl},
    {"AlterRoleSetStmt", "", kDcl},
    {"DropRoleStmt", "", kDcl},
    {"AlterDefaultPrivilegesStmt", "", kDcl},
    {"ReassignOwnedStmt", "", kDcl | kDdl},
    {"DropOwnedStmt", "", kDcl | kDdl},
    {"AlterSystemStmt", "", kAdmin},
    {"LoadStmt", "", kAdmin},
    {"CheckPointStmt", "checkpoint", kAdmin},
    {"ClusterStmt", "", kAdmin},
    {"ReindexStmt", "", kAdmin},
    {"DoStmt", "", kAdmin},
    {"CallStmt", "", kAdmin},
    {"ConstraintsSetStmt", "set_constraints", kTransaction},
    {"DiscardStmt", "", kSession},
    {"ListenStmt", "", kSession},
    {"UnlistenStmt", "", kSession},
    {"NotifyStmt", "", kSession},
    {"DeallocateStmt", "", kSession},
};

const NodeRule* find_rule(std::string_view type) {
  for (const auto& r : kNodeRules) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

// OBJECT_MATVIEW → materialized_view, OBJECT_TABLE → table.
std::string object_kind(std::string_view objtype) {
  if (objtype.starts_with("OBJECT_")) objtype.remove_prefix(7);
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"MATVIEW", "materialized_view"},  {"FDW", "foreign_data_wrapper"},
      {"OPCLASS", "op_class"},           {"OPFAMILY", "op_family"},
      {"STATISTIC_EXT", "statistics"},   {"TSCONFIGURATION", "ts_configuration"},
      {"TSDICTIONARY", "ts_dictionary"}, {"TSPARSER", "ts_parser"},
      {"TSTEMPLATE", "ts_template"},
  };
  for (const auto& [from, to] : kNames) {
    if (objtype == from) return std::string(to);
  }
  return lower(objtype);
}

bool is_relation_object(std::string_view objtype) {
  return objtype == "OBJECT_TABLE" || objtype == "OBJECT_VIEW" || objtype == "OBJECT_MATVIEW" ||
         objtype == "OBJECT_INDEX" || objtype == "OBJECT_SEQUENCE" ||
         objtype == "OBJECT_FOREIGN_TABLE";
}

bool is_server_object(std::string_view objtype) {
  return objtype == "OBJECT_EXTENSION" || objtype == "OBJECT_EVENT_TRIGGER" ||
         objtype == "OBJECT_FOREIGN_SERVER" || objtype == "OBJECT_FDW" ||
         objtype == "OBJECT_LANGUAGE" || objtype == "OBJECT_ACCESS_METHOD" ||
         objtype == "OBJECT_USER_MAPPING";
}

// --- one statement ------------------------------------------------------------------------

Statement analyze(std::string_view type, object node, int depth);

void merge_objects(Statement& into, const Statement& from) {
  for (const auto& k : from.nested_kinds) add_unique(into.nested_kinds, k);
  for (const auto& t : from.tables_read) add_unique(into.tables_read, t);
  for (const auto& t : from.tables_written) add_unique(into.tables_written, t);
  for (const auto& f : from.functions) add_unique(into.functions, f);
  for (const auto& c : from.columns_referenced) add_unique(into.columns_referenced, c);
  if (from.whole_row_reference) into.whole_row_reference = true;
  if (from.touches_all_tables) into.touches_all_tables = true;
}

Statement unknown_statement() {
  Statement s;
  s.kind = "unknown";
  s.classes = kUnknown;
  return s;
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
  Walker walker(facts);
  std::optional<Statement> inner;
  if (type == "CopyStmt" || type == "CreateTableAsStmt") {
    // The query inside is classified as a statement of its own; the walk covers the rest.
    inner = analyze_inner(node, "query", depth);
    for (auto f : node) {
      if (f.key == "query") continue;
      if (f.key == "into") {
        walker.walk(f.value, "IntoClause", false);
      } else {
        walker.walk(f.value, {}, f.key == "relation" && bool_field(node, "is_from"));
      }
    }
  } else {
    walker.walk_node(node, type);
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

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
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

// libpg_query's fingerprint of one statement's text (hex): the same for statements that
// differ only in constants. Empty when the text does not parse on its own.
std::string fingerprint(const std::string& text) {
  struct Result {
    PgQueryFingerprintResult r;
    ~Result() { pg_query_free_fingerprint_result(r); }
  } result{pg_query_fingerprint(text.c_str())};
  if (result.r.error != nullptr || result.r.fingerprint_str == nullptr) return {};
  return result.r.fingerprint_str;
}

// A thread keeps its tree reader's buffers between statements; one huge statement should not
// pin megabytes for the thread's lifetime.
constexpr std::size_t kMaxRetainedParserCapacity = 4 * 1024 * 1024;

Classification classify_tree(std::string_view sql, const char* json,
                             simdjson::dom::parser& parser) {
  element doc;
  if (auto err = parser.parse(json, std::strlen(json)).get(doc); err != SUCCESS) {
    return unparsable(sql,
                      std::string("cannot read the parse tree: ") + simdjson::error_message(err));
  }
  object root;
  element stmts_el;
  array stmts;
  if (doc.get_object().get(root) != SUCCESS || !get_field(root, "stmts", stmts_el) ||
      stmts_el.get_array().get(stmts) != SUCCESS) {
    return unparsable(sql, "cannot read the parse tree");
  }
  Classification c;
  for (element raw : stmts) {
    object raw_obj;
    if (raw.get_object().get(raw_obj) != SUCCESS) continue;
    const int64_t location = int_field(raw_obj, "stmt_location");
    const int64_t length = int_field(raw_obj, "stmt_len");
    std::string_view type;
    object node;
    const bool has_node = unwrap_field(raw_obj, "stmt", type, node);
    Statement s = has_node ? analyze(type, node, 0) : unknown_statement();
    std::size_t begin =
        std::min(static_cast<std::size_t>(std::max<int64_t>(location, 0)), sql.size());
    std::size_t end =
        length > 0 ? std::min(begin + static_cast<std::size_t>(length), sql.size()) : sql.size();
    std::string_view own = sql.substr(begin, end - begin);
    std::string_view trimmed = trim(own);
    s.text = std::string(trimmed);
    if (has_node) {
      // The tree's locations count in the whole text; the statement's text starts here.
      const std::size_t text_offset = begin + static_cast<std::size_t>(trimmed.data() - own.data());
      s.redacted_text = redact_secret_literals(
          s.text, text_offset, find_secret_literals(type, node, s.functions), s.kind);
    }
    // The fingerprint hashes every value that is not a constant to it, secrets included (a
    // role's password, an option's value, a conninfo): a hash of a secret must not be recorded
    // either, so a statement with secrets is fingerprinted on its redacted text, and a withheld
    // one not at all.
    if (s.redacted_text.empty()) {
      s.fingerprint = fingerprint(s.text);
    } else if (s.redacted_text != withheld_text(s.kind)) {
      s.fingerprint = fingerprint(s.redacted_text);
    }
    c.statements.push_back(std::move(s));
  }
  return c;
}

thread_local int sql_text_nesting = 0;

Classification classify_nested(std::string_view sql) {
  if (sql_text_nesting >= kMaxSqlTextNesting || sql.find('\0') != std::string_view::npos) {
    return unparsable(sql, "SQL text nested too deep");
  }
  struct Nesting {
    Nesting() { ++sql_text_nesting; }
    ~Nesting() { --sql_text_nesting; }
  } nesting;
  std::string text(sql);
  PgQueryParseResult r = pg_query_parse(text.c_str());
  struct Free {
    PgQueryParseResult& r;
    ~Free() { pg_query_free_parse_result(r); }
  } free_result{r};
  if (r.error != nullptr || r.parse_tree == nullptr) return unparsable(sql, "unparsable SQL text");
  // The caller is walking the thread's shared parser's document: this one needs its own.
  simdjson::dom::parser parser;
  return classify_tree(sql, r.parse_tree, parser);
}

// Frees libpg_query's result on every path out.
class ParseResult {
 public:
  explicit ParseResult(PgQueryParseResult r) : r_(r) {}
  ~ParseResult() { pg_query_free_parse_result(r_); }
  ParseResult(const ParseResult&) = delete;
  ParseResult& operator=(const ParseResult&) = delete;
  const PgQueryParseResult* operator->() const { return &r_; }

 private:
  PgQueryParseResult r_;
};

}  // namespace

Classification classify_postgres(std::string_view sql) {
  try {
    // The wire protocol ends a query at its first NUL; text that holds one is not what the
    // server would see.
    if (sql.find('\0') != std::string_view::npos) {
      return unparsable(sql, "the text contains a NUL byte");
    }
    std::string text(sql);
    ParseResult result(pg_query_parse(text.c_str()));
    if (result->error != nullptr) {
      std::string message = result->error->message != nullptr ? result->error->message : "";
      if (result->error->cursorpos > 0) {
        message += " at position " + std::to_string(result->error->cursorpos);
      }
      return unparsable(sql, std::move(message));
    }
    if (result->parse_tree == nullptr) return unparsable(sql, "no parse tree");
    thread_local simdjson::dom::parser parser;
    Classification c = classify_tree(sql, result->parse_tree, parser);
    if (parser.capacity() > kMaxRetainedParserCapacity) parser = simdjson::dom::parser{};
    return c;
  } catch (const std::exception& e) {
    return unparsable(sql, std::string("classifier error: ") + e.what());
  } catch (...) {
    return unparsable(sql, "classifier error");
  }
}

}  // namespace portcullis::sql
