// Column rules: a glob on `table.column` ('*' any run, '?' one byte, ASCII case folded, as
// PostgreSQL folds unquoted identifiers).
#pragma once

#include <string_view>

namespace portcullis::masking {

bool glob_match(std::string_view pattern, std::string_view text);

// A column rule's glob against a column. With the table unknown (an expression, a view the
// catalog lookup did not resolve) only the part of the glob after its last '.' is matched
// against the column name: unknown provenance masks more, never less.
bool column_rule_matches(std::string_view glob, std::string_view table, std::string_view column);

}  // namespace portcullis::masking
