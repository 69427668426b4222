// CREATE, ALTER and DROP statements, and the pieces of their syntax other statements share.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sql/mysql/lexer.h"
#include "sql/statement.h"

namespace portcullis::sql::mysql {

Statement analyze_create(std::span<const Token> tokens);
Statement analyze_alter(std::span<const Token> tokens);
Statement analyze_drop(std::span<const Token> tokens);

// Skips CREATE/ALTER's modifiers from tokens[i]: OR REPLACE, DEFINER = user, ALGORITHM = x,
// SQL SECURITY x, TEMPORARY, ONLINE, IGNORE, AGGREGATE, UNIQUE/FULLTEXT/SPATIAL (of an index).
std::size_t skip_modifiers(std::span<const Token> tokens, std::size_t i);

// Names in a comma list from tokens[i] (DROP TABLE a, b; TRUNCATE TABLE t).
void name_list(std::span<const Token> tokens, std::size_t i, std::vector<std::string>& into);

// Whether the statement has `word` anywhere (SONAME of a UDF).
bool has_word(std::span<const Token> tokens, std::string_view word);

}  // namespace portcullis::sql::mysql
