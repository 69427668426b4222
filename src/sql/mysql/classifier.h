// MySQL/MariaDB statement classifier: SQL text in, one Statement per statement out, decided on
// the tokens the server's own lexing rules give (lexer.h), never on the raw text. No Debian
// package offers a MySQL parser, so the statement shapes are read by hand; what the classifier
// cannot place is kind "unknown", class unknown.
//
// Statement kinds: the table "MySQL and MariaDB statement kinds" in docs/policy.md lists every
// kind with its statements and classes. Names are PostgreSQL's where the meaning is the same.
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
