// Names of the SQL dialects.
#include "sql/dialect.h"

namespace portcullis::sql {

std::string_view to_string(Dialect dialect) {
  switch (dialect) {
    case Dialect::postgres:
      return "postgres";
    case Dialect::mysql:
      return "mysql";
  }
  return "unknown";
}

}  // namespace portcullis::sql
