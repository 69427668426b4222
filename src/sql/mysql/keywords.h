// The words of MySQL's grammar the classifier must not take for names: reserved words (never a
// table alias or column), and words that stand before '(' without calling a function.
#pragma once

#include <string_view>

namespace portcullis::sql::mysql {

// MySQL 8.0's and MariaDB 10.11's reserved words, and the few unreserved words that end a
// table reference (RETURNING): a word here after a table name is not its alias.
// Case-insensitive.
bool is_reserved(std::string_view word);

// Words followed by '(' that are not function calls: IN (...), VALUES (...), EXISTS (...),
// column types (DECIMAL(10,2)), index parts (KEY (...)). Case-insensitive.
bool is_not_function(std::string_view word);

// Words of statement syntax that are not reserved but are never column references in the
// places the classifier meets them (SHARE, MODE, DUPLICATE, ...). Case-insensitive.
bool is_syntax_word(std::string_view word);

}  // namespace portcullis::sql::mysql
