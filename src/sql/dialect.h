// The SQL dialects the gateway classifies: one per database protocol it fronts.
#pragma once

#include <string_view>

namespace portcullis::sql {

enum class Dialect {
  postgres,  // PostgreSQL's grammar, through libpg_query (sql/postgres/)
  mysql,     // MySQL and MariaDB (sql/mysql/): a hand-written lexer and classifier
};

// "postgres", "mysql": as configuration and audit events spell it.
std::string_view to_string(Dialect dialect);

}  // namespace portcullis::sql
