// SqlPreparedStatements: statements a session prepared with SQL (PREPARE s FROM '...'), so
// that EXECUTE s is decided, masked and journaled as the statement it runs.
//
// MySQL's rules, which the gateway follows: names are case-insensitive; a PREPARE of a known
// name replaces it, and one that fails leaves no statement under that name; a stored procedure
// (CALL) or a compound statement may prepare or deallocate any name. The gateway learns that
// a PREPARE ran from the backend's answer to it, so a name is known only once the backend has
// prepared it, or earlier in the same text (a text stops at its first error, so an EXECUTE
// after a PREPARE that failed never runs). An EXECUTE of any other name is class unknown.
#pragma once

#include <string>
#include <unordered_map>

#include "sql/statement.h"

namespace portcullis::proto::mysql {

class SqlPreparedStatements {
 public:
  // Gives every EXECUTE in `classification` the facts of the statement it will run, and a
  // statement that runs an EXECUTE the gateway cannot see (inside a compound statement) the
  // class unknown.
  void resolve(sql::Classification& classification) const;

  // The backend's answer to one statement of a forwarded text or prepared statement.
  void on_answer(const sql::Statement& statement, bool succeeded);

  // COM_RESET_CONNECTION: the backend dropped every prepared statement.
  void clear() { statements_.clear(); }

  std::size_t size() const { return statements_.size(); }

 private:
  std::unordered_map<std::string, sql::Statement> statements_;  // by lower-cased name
};

}  // namespace portcullis::proto::mysql
