// MySQL/MariaDB statement classifier: SQL text in, one Statement per statement out, decided on
// the tokens the server's own lexing rules give (lexer.h), never on the raw text. No Debian
// package offers a MySQL parser, so the statement shapes are read by hand; what the classifier
// cannot place is kind "unknown", class unknown.
//
// Statement kinds (docs/policy.md takes its MySQL list from this table). Names are
// PostgreSQL's where the meaning is the same.
//
// | kind | statement | classes |
// |---|---|---|
// | select | SELECT (also WITH ... SELECT, parenthesised, set operations) | read; + write with FOR
// UPDATE / FOR SHARE / LOCK IN SHARE MODE | | select_into_outfile | SELECT ... INTO OUTFILE / INTO
// DUMPFILE (not INTO @var) | read + admin | | values, table | VALUES ROW(...), TABLE t (MySQL 8) |
// read | | insert, replace | INSERT, REPLACE (... SELECT, ... ON DUPLICATE KEY UPDATE) | write | |
// update, delete | UPDATE, DELETE, multi-table forms, WITH ... UPDATE/DELETE | write | | load_data
// | LOAD DATA [LOCAL] INFILE, LOAD XML | write + admin | | truncate | TRUNCATE [TABLE] | write | |
// do | DO expr | read | | call | CALL p(...) | admin (the procedure's code is not visible) | |
// handler | HANDLER t OPEN / READ / CLOSE | read | | lock_tables | LOCK TABLE(S) ... READ / WRITE |
// write (even READ blocks other sessions' writes) | | unlock_tables | UNLOCK TABLE(S) | session |
// | lock_instance, unlock_instance | LOCK INSTANCE FOR BACKUP, UNLOCK INSTANCE | admin |
// | explain | EXPLAIN / DESCRIBE stmt, MariaDB ANALYZE stmt | read; EXPLAIN ANALYZE and ANALYZE
// stmt run stmt: its classes | | describe | DESCRIBE t, EXPLAIN t, DESC t | read | | prepare |
// PREPARE s FROM 'text' (classes of the text); FROM @var: unknown | as the text | | execute |
// EXECUTE s [USING ...] | none: the session decides it as the prepared statement | |
// execute_immediate | MariaDB EXECUTE IMMEDIATE 'text' | as the text; otherwise unknown | |
// deallocate | DEALLOCATE / DROP PREPARE s | session | | begin, start_transaction | BEGIN [WORK],
// START TRANSACTION [READ ONLY / READ WRITE / WITH CONSISTENT SNAPSHOT] | transaction | | commit,
// rollback, rollback_to, savepoint, release | COMMIT, ROLLBACK, ROLLBACK TO, SAVEPOINT, RELEASE
// SAVEPOINT | transaction | | xa | XA START/END/PREPARE/COMMIT/ROLLBACK; XA RECOVER is also admin |
// transaction | | set | SET of variables: session for the settings stock clients send and user
// variables with read-only values; admin for GLOBAL, PERSIST, PERSIST_ONLY and every other setting
// | session / admin | | set_transaction | SET [SESSION / GLOBAL] TRANSACTION ... | transaction (no
// scope), session (SESSION), admin (GLOBAL) | | set_password, set_role, set_default_role | SET
// PASSWORD, SET ROLE, SET DEFAULT ROLE | dcl | | set_resource_group | SET RESOURCE GROUP | admin |
// | set_statement | MariaDB SET STATEMENT v = x FOR stmt | the settings' and stmt's classes |
// | show | SHOW ... (SHOW GRANTS, SHOW PROCESSLIST, SHOW ENGINE ... STATUS too) | read |
// | use | USE db | session (the front end restricts the database) |
// | help | HELP 'topic' | read |
// | signal, get_diagnostics | SIGNAL / RESIGNAL, GET DIAGNOSTICS | session |
// | grant, revoke | GRANT, REVOKE (privileges and roles) | dcl |
// | create_user, alter_user, drop_user, rename_user, create_role, drop_role | users and roles | dcl
// | | create_table, create_table_as | CREATE TABLE; ... AS SELECT / ... SELECT | ddl;
// create_table_as + write + the query's classes | | create_index, create_view, create_trigger,
// create_procedure, create_function, create_event, create_sequence, create_package,
// create_spatial_reference_system | CREATE ... | ddl | | create_function (SONAME) | CREATE FUNCTION
// f RETURNS ... SONAME 'lib.so' (a UDF) | ddl + admin | | create_database, alter_database,
// drop_database | also SCHEMA | ddl + admin | | create_server, alter_server, drop_server,
// create_tablespace, alter_tablespace, drop_tablespace, create_logfile_group, alter_logfile_group,
// drop_logfile_group, create_resource_group, alter_resource_group, drop_resource_group | server
// objects | ddl + admin | | alter_table, alter_view, alter_procedure, alter_function, alter_event,
// alter_sequence | ALTER ... | ddl | | alter_instance | ALTER INSTANCE | admin | | drop_table,
// drop_view, drop_index, drop_trigger, drop_procedure, drop_function, drop_event, drop_sequence,
// drop_package, drop_spatial_reference_system | DROP ... | ddl | | rename_table | RENAME TABLE(S) a
// TO b | ddl | | analyze_table, optimize_table, repair_table, check_table | table maintenance |
// admin | | checksum_table | CHECKSUM TABLE | read | | flush, reset, purge, shutdown, restart,
// kill, binlog, cache_index, load_index, clone, backup, import_table | server operations (PURGE
// BINARY LOGS, KILL QUERY n, FLUSH TABLES WITH READ LOCK, BACKUP STAGE, ...) | admin | |
// install_plugin, uninstall_plugin | INSTALL / UNINSTALL PLUGIN, COMPONENT, SONAME | admin | |
// change_master, change_replication_source, change_replication_filter, start_replica, stop_replica,
// start_group_replication, stop_group_replication | replication (SLAVE and REPLICA spellings) |
// admin | | compound_statement | MariaDB BEGIN NOT ATOMIC ... END, IF, CASE, LOOP, WHILE, REPEAT
// outside a stored program | unknown | | unknown | anything else, DELIMITER (a client command),
// text that cannot be lexed | unknown |
//
// On top of a kind's classes: a call of a function not known to only compute (a stored
// function, db.f) adds unknown; get_lock, release_lock, nextval, setval and NEXT VALUE FOR add
// write; load_file, sys_exec, sys_eval, master_pos_wait and the like add admin (catalog_rules.h).
// The server reads each statement of a multi-statement text with the settings the statements
// before it left: after a SET sql_mode to a constant the rest is lexed again with the new
// ANSI_QUOTES and NO_BACKSLASH_ESCAPES; after a change the classifier cannot follow (a computed
// sql_mode, SET NAMES to gbk, big5, sjis, cp932 or gb18030, an EXECUTE of a statement prepared
// earlier) the rest of the text is one statement of kind unknown.
// A statement that creates a stored program (CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT/PACKAGE)
// or is a compound statement takes the rest of the text with it, as the server does for its
// body: every later piece between semicolons is classified and merged into it.
#pragma once

#include <string_view>

#include "sql/mysql/lexer.h"
#include "sql/statement.h"

namespace portcullis::sql::mysql {

// Classifies every statement of `sql` as a backend reading it as `reading` would run it.
// Pure and thread-safe; never throws. Text that cannot be lexed (an unterminated string or
// comment, a NUL byte outside a string) gives one Statement of kind "unknown" (class unknown)
// and sets parse_error; empty text or text of only comments gives no statements.
Classification classify(std::string_view sql, const Reading& reading);

}  // namespace portcullis::sql::mysql
