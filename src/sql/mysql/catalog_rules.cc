// The function and setting lists of MySQL 8.0 and MariaDB 10.11 the classifier decides by.
#include "sql/mysql/catalog_rules.h"

#include <algorithm>
#include <iterator>
#include <span>

namespace portcullis::sql::mysql {

namespace {

constexpr std::string_view kReadFunctions[] = {
#include "sql/mysql/read_functions.inc"
};

// Server files (load_file), the operating system (lib_mysqludf_sys's sys_exec, sys_eval,
// sys_get, sys_set), waits on replication and the enterprise plugins' control functions.
constexpr std::string_view kAdminFunctions[] = {
    "load_file",
    "master_pos_wait",
    "source_pos_wait",
    "master_gtid_wait",
    "wait_for_executed_gtid_set",
    "wait_until_sql_thread_after_gtids",
    "binlog_gtid_pos",
    "lib_mysqludf_sys_info",
    "service_get_read_locks",
    "service_get_write_locks",
    "service_release_locks",
};

constexpr std::string_view kAdminFunctionPrefixes[] = {
    "sys_",             // sys_exec, sys_eval, sys_get, sys_set, sys_bineval (UDFs)
    "audit_log_",       // audit_log_filter_set_filter, audit_log_encryption_password_set, ...
    "keyring_",         // keyring_key_store, keyring_key_remove, ...
    "version_tokens_",  // version_tokens_set, version_tokens_lock_exclusive, ...
    "mysql_firewall_",
    "asynchronous_connection_failover_",
    "group_replication_",
    "mysql_query_attribute_string",
};

// Named locks block other sessions until released; sequences advance for every session.
constexpr std::string_view kWriteFunctions[] = {
    "get_lock", "release_lock", "release_all_locks", "nextval", "setval",
};

// Settings connectors and the mysql/mariadb clients send at connect time or that change only
// how this session's results look or how long it waits (MySQL Connector/J, Connector/Python,
// mysqlclient, PyMySQL, the Go driver, the mariadb client's --safe-updates). Sorted.
constexpr std::string_view kSessionSettings[] = {
    "autocommit",
    "big_tables",
    "character_set_client",
    "character_set_connection",
    "character_set_database",
    "character_set_filesystem",
    "character_set_results",
    "collation_connection",
    "collation_database",
    "default_week_format",
    "div_precision_increment",
    "group_concat_max_len",
    "innodb_lock_wait_timeout",
    "interactive_timeout",
    "lc_messages",
    "lc_time_names",
    "lock_wait_timeout",
    "max_execution_time",
    "max_join_size",
    "max_statement_time",
    "names",
    "net_read_timeout",
    "net_write_timeout",
    "profiling",
    "profiling_history_size",
    "session_track_schema",
    "session_track_state_change",
    "session_track_system_variables",
    "session_track_transaction_info",
    "sql_auto_is_null",
    "sql_big_selects",
    "sql_mode",
    "sql_notes",
    "sql_quote_show_create",
    "sql_safe_updates",
    "sql_select_limit",
    "sql_warnings",
    "time_zone",
    "transaction_isolation",
    "tx_isolation",
    "wait_timeout",
};

bool contains(std::span<const std::string_view> list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

}  // namespace

bool is_read_function(std::string_view name) {
  return std::binary_search(std::begin(kReadFunctions), std::end(kReadFunctions), name);
}

bool is_admin_function(std::string_view name) {
  if (contains(kAdminFunctions, name)) return true;
  if (is_read_function(name)) return false;  // sys_guid is MariaDB's, not lib_mysqludf_sys's
  return std::any_of(std::begin(kAdminFunctionPrefixes), std::end(kAdminFunctionPrefixes),
                     [&](std::string_view p) { return name.starts_with(p); });
}

bool is_write_function(std::string_view name) {
  return contains(kWriteFunctions, name);
}

bool is_session_setting(std::string_view name) {
  return std::binary_search(std::begin(kSessionSettings), std::end(kSessionSettings), name);
}

bool is_read_only_setting(std::string_view name) {
  return name == "transaction_read_only" || name == "tx_read_only";
}

bool is_text_reading_setting(std::string_view name) {
  return name == "character_set_client" || name == "sql_mode" || name == "names" ||
         name == "character_set";
}

}  // namespace portcullis::sql::mysql
