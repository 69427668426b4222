// Resolution of SQL-level EXECUTE against the session's SQL-level PREPAREs.
#include "proto/postgres/sql_prepared_statements.h"

#include <algorithm>

namespace portcullis::proto::postgres {

std::shared_ptr<const sql::Classification> SqlPreparedStatements::resolve(
    std::shared_ptr<const sql::Classification> classification, const Fallback& fallback) const {
  const auto& statements = classification->statements;
  const bool has_execute = std::any_of(statements.begin(), statements.end(),
                                       [](const sql::Statement& s) { return s.kind == "execute"; });
  if (!has_execute) return classification;
  auto resolved = std::make_shared<sql::Classification>(*classification);
  for (auto& statement : resolved->statements) {
    if (statement.kind != "execute") continue;
    const auto found = statements_.find(statement.prepared_name);
    sql::Statement prepared;
    if (found != statements_.end() && !found->second.ambiguous) {
      prepared = found->second.statement;
    } else if (found == statements_.end() && fallback) {
      auto other = fallback(statement.prepared_name);
      if (!other || other->statements.size() != 1) {
        statement.classes = static_cast<sql::ClassSet>(sql::StatementClass::unknown);
        continue;
      }
      prepared = other->statements.front();
      prepared.inner_kind = prepared.kind;
    } else {
      statement.classes = static_cast<sql::ClassSet>(sql::StatementClass::unknown);
      continue;
    }
    std::string text = std::move(statement.text);
    std::string name = std::move(statement.prepared_name);
    statement = prepared;
    statement.kind = "execute";
    statement.text = std::move(text);
    statement.prepared_name = std::move(name);
  }
  return resolved;
}

void SqlPreparedStatements::apply(const sql::Classification& classification) {
  for (const auto& statement : classification.statements) {
    if (statement.kind == "prepare") {
      auto [it, inserted] = statements_.try_emplace(statement.prepared_name);
      if (inserted)
        it->second.statement = statement;
      else
        it->second.ambiguous = true;
    } else if (statement.kind == "deallocate") {
      if (statement.prepared_name.empty())
        statements_.clear();  // DEALLOCATE ALL
      else
        statements_.erase(statement.prepared_name);
    } else if (statement.kind == "discard") {
      // DISCARD ALL drops every prepared statement; DISCARD PLANS keeps them. Forgetting
      // them all is the safe side: an EXECUTE the gateway no longer knows is refused.
      statements_.clear();
    }
  }
}

}  // namespace portcullis::proto::postgres
