// What PostgreSQL's catalog functions and settings do, as far as classification cares:
// which functions only read, which write, which reach outside the database, which run SQL
// given as text; which settings belong to an administrator. Lists in docs/policy.md.
#pragma once

#include <cstddef>
#include <string_view>

namespace portcullis::sql::postgres {

// Functions that reach the server's files, other sessions, the server's configuration or
// other servers, and their families (pg_ls_*, dblink*). `name` is the last name component,
// folded to lower case.
bool is_dangerous_function(std::string_view name);

// Exact names: the parser has already folded unquoted names to lower case, and a quoted
// "Now" is not pg_catalog's now.
bool is_read_function(std::string_view name);

// pg_catalog functions that change data: sequences, large objects, notifications.
bool is_write_function(std::string_view name);

// Functions that run SQL given as text, and which argument holds it.
struct SqlTextFunction {
  std::string_view name;
  std::size_t arg;
};
const SqlTextFunction* find_sql_text_function(std::string_view name);

// Functions that read the table their first argument names (a regclass).
bool is_table_dump_function(std::string_view name);

// Functions that read every table of a schema or of the database.
bool is_all_tables_function(std::string_view name);

// default_transaction_read_only, transaction_read_only.
bool is_read_only_setting(std::string_view name);

// Settings that change how the server reads query text (GUC_REPORT, so the backend also
// announces every change in a ParameterStatus).
bool is_text_reading_setting(std::string_view name);

// role, session_authorization: who the session acts as.
bool is_role_setting(std::string_view name);

// Settings whose change belongs to a server administrator (docs/policy.md).
bool is_admin_setting(std::string_view name);

}  // namespace portcullis::sql::postgres
