// What MySQL's and MariaDB's built-in functions and system variables do, as far as
// classification cares: which functions only compute, which change data or take locks, which
// reach the server's files or replication; which settings a stock client may change.
#pragma once

#include <string_view>

namespace portcullis::sql::mysql {

// Built-ins that only compute a value (read_functions.inc). `name` is lower case and
// unqualified: a qualified name (db.f) is a stored function, never a built-in.
bool is_read_function(std::string_view name);

// Built-ins and well-known UDFs that reach the server's files, the operating system, other
// servers or replication (load_file, sys_exec, master_pos_wait, ...): class admin.
bool is_admin_function(std::string_view name);

// Built-ins that change something other sessions see: named locks (get_lock), sequences
// (nextval, setval): class write.
bool is_write_function(std::string_view name);

// Settings stock clients and connectors send that change only this session's presentation
// or limits (autocommit, time_zone, character_set_*, sql_mode, ...): class session. Every
// other setting is admin. `name` lower case, without scope.
bool is_session_setting(std::string_view name);

// transaction_read_only, tx_read_only: setting them to anything but true lifts read-only.
bool is_read_only_setting(std::string_view name);

// Settings that change how the server reads later statement text: character_set_client,
// sql_mode (ANSI_QUOTES, NO_BACKSLASH_ESCAPES), names.
bool is_text_reading_setting(std::string_view name);

}  // namespace portcullis::sql::mysql
