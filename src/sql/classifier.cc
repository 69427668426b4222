// Hands SQL text to its dialect's classifier; a dialect without one is refused, not guessed.
#include "sql/classifier.h"

#include <string>
#include <utility>

#include "sql/mysql/classifier.h"
#include "sql/postgres/classifier.h"

namespace portcullis::sql {

namespace {

// Fail closed: the whole text is one statement no rule can allow by class.
Classification not_built(std::string_view sql, Dialect dialect) {
  Statement s;
  s.kind = "unknown";
  s.classes = static_cast<ClassSet>(StatementClass::unknown);
  s.text = std::string(sql);
  Classification c;
  c.statements.push_back(std::move(s));
  c.parse_error = "the " + std::string(to_string(dialect)) +
                  " dialect is not built yet: its statements cannot be classified";
  return c;
}

}  // namespace

Classification classify(std::string_view sql, Dialect dialect) {
  switch (dialect) {
    case Dialect::postgres:
      return postgres::classify(sql);
    case Dialect::mysql:
      // The backend's sql_mode and version are the defaults until the front end passes them.
      return mysql::classify(sql, mysql::Reading{});
  }
  return not_built(sql, dialect);
}

}  // namespace portcullis::sql
