// The function and setting lists of PostgreSQL 15 the classifier decides by.
#include "sql/postgres/catalog_rules.h"

#include <algorithm>
#include <iterator>
#include <span>

namespace portcullis::sql::postgres {

namespace {

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
#include "sql/postgres/read_functions.inc"
};

// pg_catalog functions that change data: sequences, large objects, notifications.
constexpr std::string_view kWriteFunctions[] = {
    "nextval", "setval",      "lo_create",     "lo_creat",  "lo_from_bytea", "lo_put",
    "lowrite", "lo_truncate", "lo_truncate64", "lo_unlink", "pg_notify",
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

bool starts_with_any(std::string_view s, std::span<const std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](std::string_view p) { return s.starts_with(p); });
}

bool contains(std::span<const std::string_view> list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

}  // namespace

bool is_read_only_setting(std::string_view name) {
  return name == "default_transaction_read_only" || name == "transaction_read_only";
}

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

bool is_read_function(std::string_view name) {
  return std::binary_search(std::begin(kReadFunctions), std::end(kReadFunctions), name);
}

bool is_write_function(std::string_view name) {
  return contains(kWriteFunctions, name);
}

const SqlTextFunction* find_sql_text_function(std::string_view name) {
  for (const auto& f : kSqlTextFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool is_table_dump_function(std::string_view name) {
  return contains(kTableDumpFunctions, name);
}

bool is_all_tables_function(std::string_view name) {
  return contains(kAllTablesFunctions, name);
}

}  // namespace portcullis::sql::postgres
