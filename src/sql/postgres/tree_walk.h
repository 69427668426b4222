// One generic walk over a statement's parse tree that collects what the statement touches:
// relations read and written, functions called and what they do, writable CTEs, row locks,
// and the column references that column masking follows (lineage).
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sql/statement.h"

namespace portcullis::sql::postgres {

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

inline void add_unique(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

// INSERT, UPDATE, DELETE, MERGE.
bool is_dml_node(std::string_view type);

// Walks statement node `node` of type `type` (its fields, not the {"Type": ...} wrapper).
void walk_statement(Facts& facts, simdjson::dom::object node, std::string_view type);

// Walks one field's value; `type` names the node when the value is an unwrapped node (CTAS's
// "into"), and `written` says the relations under it are written.
void walk_value(Facts& facts, simdjson::dom::element value, std::string_view type, bool written);

// Classifies SQL text found inside a statement (query_to_xml's argument): classifier.cc.
Classification classify_nested(std::string_view sql);

}  // namespace portcullis::sql::postgres
