// One statement's classification from its tokens: its kind, classes, the objects it touches
// and the flags policy rules match on.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "sql/mysql/lexer.h"
#include "sql/statement.h"

namespace portcullis::sql::mysql {

inline constexpr ClassSet kRead = static_cast<ClassSet>(StatementClass::read);
inline constexpr ClassSet kWrite = static_cast<ClassSet>(StatementClass::write);
inline constexpr ClassSet kDdl = static_cast<ClassSet>(StatementClass::ddl);
inline constexpr ClassSet kDcl = static_cast<ClassSet>(StatementClass::dcl);
inline constexpr ClassSet kAdmin = static_cast<ClassSet>(StatementClass::admin);
inline constexpr ClassSet kTransaction = static_cast<ClassSet>(StatementClass::transaction);
inline constexpr ClassSet kSession = static_cast<ClassSet>(StatementClass::session);
inline constexpr ClassSet kUnknown = static_cast<ClassSet>(StatementClass::unknown);

// `tokens` are one statement's, without its ';'. `depth` counts the statements it is wrapped
// in (PREPARE's text, EXPLAIN's statement). `text` is not set.
Statement analyze(std::span<const Token> tokens, const Reading& reading, int depth);

// A statement of kind "unknown", class unknown.
Statement unknown_statement();

// The statement starts a stored program's body or a compound statement (CREATE PROCEDURE,
// BEGIN NOT ATOMIC, IF ...): the server reads the semicolons after it as part of it.
bool takes_rest_of_text(std::span<const Token> tokens);

// How the server reads the text after `tokens` (a statement with changes_text_reading):
// SET sql_mode to a constant turns ANSI_QUOTES and NO_BACKSLASH_ESCAPES on or off; SET NAMES or
// character_set_client to a character set whose multi-byte characters may hold a '\' or a
// quote, a computed value or any other such statement gives nullopt: the rest cannot be read.
std::optional<Reading> reading_after(std::span<const Token> tokens, const Reading& reading);

// Classifies SQL text found inside a statement (PREPARE s FROM 'text'), `depth` deep.
Classification classify_nested(std::string_view sql, const Reading& reading, int depth);

}  // namespace portcullis::sql::mysql
