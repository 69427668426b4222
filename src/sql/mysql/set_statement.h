// SET statements: what they change and how they leave the reading of the text after them.
#pragma once

#include <span>

#include "sql/mysql/lexer.h"
#include "sql/statement.h"

namespace portcullis::sql::mysql {

// A statement starting with SET; `depth` as for analyze().
Statement analyze_set(std::span<const Token> tokens, const Reading& reading, int depth);

}  // namespace portcullis::sql::mysql
