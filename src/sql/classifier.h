// Statement classification for every dialect: SQL text in, one Statement per statement out.
// Each dialect's classifier lives in its own folder (sql/postgres/); this is the entry point
// callers use, so that they need not know which one runs.
#pragma once

#include <string_view>

#include "sql/dialect.h"
#include "sql/statement.h"

namespace portcullis::sql {

// Classifies every statement of `sql` as `dialect` reads it. Pure and thread-safe; never
// throws. Text the dialect's grammar rejects gives one Statement of kind "unknown" (class
// unknown) and sets parse_error; empty text or text of only comments gives no statements.
// A dialect not built yet gives one Statement of class unknown for the whole text and a
// parse_error saying so, whatever the text: a caller whose rules need classes refuses it.
Classification classify(std::string_view sql, Dialect dialect = Dialect::postgres);

// classify(sql, Dialect::postgres), under the name callers used before there were dialects.
inline Classification classify_postgres(std::string_view sql) {
  return classify(sql, Dialect::postgres);
}

}  // namespace portcullis::sql
