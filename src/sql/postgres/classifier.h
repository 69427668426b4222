// PostgreSQL statement classifier: SQL text in, one Statement per statement out, decided on
// the parse tree of PostgreSQL's own grammar (libpg_query), never on the text.
#pragma once

#include <string_view>

#include "sql/statement.h"

namespace portcullis::sql::postgres {

// Classifies every statement of `sql`. Pure and thread-safe; never throws. Text the grammar
// rejects gives one Statement of kind "unknown" (class unknown) and sets parse_error; empty
// text or text of only comments gives no statements.
Classification classify(std::string_view sql);

}  // namespace portcullis::sql::postgres
