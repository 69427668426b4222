// One statement's classification from its parse tree node: its kind, classes, the objects it
// touches and the flags policy rules match on.
#pragma once

#include <simdjson.h>

#include <string_view>

#include "sql/statement.h"

namespace portcullis::sql::postgres {

// `type` and `node` are the statement's node ("SelectStmt" and its fields); `depth` counts the
// statements it is wrapped in (EXPLAIN, PREPARE, COPY's query).
Statement analyze(std::string_view type, simdjson::dom::object node, int depth);

// A statement of kind "unknown", class unknown.
Statement unknown_statement();

}  // namespace portcullis::sql::postgres
