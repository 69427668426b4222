// Whether a WHERE condition holds for every row: a constant the classifier can evaluate as
// MySQL does (WHERE 1, WHERE TRUE, WHERE 1=1, WHERE 'a'='a'), or one it cannot show false.
#pragma once

#include <span>

#include "sql/mysql/lexer.h"

namespace portcullis::sql::mysql {

// True when `condition` names no column and no subquery and is not a constant that is false
// or NULL: such a condition selects every row or none, and when the classifier cannot tell
// which it says every row.
bool selects_every_row(std::span<const Token> condition, const Reading& reading);

}  // namespace portcullis::sql::mysql
