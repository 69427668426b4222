// Resolution of SQL-level EXECUTE against the PREPAREs the backend has run.
#include "proto/mysql/sql_prepared_statements.h"

#include <algorithm>
#include <optional>

#include "sql/prepared_facts.h"

namespace portcullis::proto::mysql {
namespace {

std::string name_key(std::string_view name) {
  std::string key(name);
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return key;
}

bool contains(const std::vector<std::string>& kinds, std::string_view kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

// CALL runs a procedure whose body the gateway does not see; a compound statement's pieces may
// PREPARE and DEALLOCATE: after either, no name is known for sure.
bool may_change_any(const sql::Statement& s) {
  return s.kind == "call" || s.kind == "compound_statement" ||
         (s.kind != "prepare" && s.kind != "deallocate" &&
          (contains(s.nested_kinds, "prepare") || contains(s.nested_kinds, "deallocate")));
}

}  // namespace

void SqlPreparedStatements::resolve(sql::Classification& classification) const {
  // What the statements before an EXECUTE in the same text prepare (a value) or deallocate
  // (none), over what the backend has prepared.
  std::unordered_map<std::string, std::optional<sql::Statement>> earlier;
  bool backend_names_known = true;
  for (auto& statement : classification.statements) {
    if (statement.kind == "execute") {
      const std::string key = name_key(statement.prepared_name);
      const sql::Statement* prepared = nullptr;
      if (auto it = earlier.find(key); it != earlier.end()) {
        if (it->second) prepared = &*it->second;
      } else if (backend_names_known) {
        if (auto found = statements_.find(key); found != statements_.end())
          prepared = &found->second;
      }
      if (prepared && !statement.prepared_name.empty())
        sql::add_prepared_facts(statement, *prepared);
      else
        sql::mark_unknown(statement);
      continue;
    }
    if (contains(statement.nested_kinds, "execute")) sql::mark_unknown(statement);
    if (statement.kind == "prepare") {
      earlier[name_key(statement.prepared_name)] = statement;
    } else if (statement.kind == "deallocate") {
      earlier[name_key(statement.prepared_name)] = std::nullopt;
    } else if (may_change_any(statement)) {
      earlier.clear();
      backend_names_known = false;
    }
  }
}

void SqlPreparedStatements::on_answer(const sql::Statement& statement, bool succeeded) {
  if (statement.kind == "prepare") {
    // A PREPARE that fails drops what the name held.
    if (succeeded)
      statements_.insert_or_assign(name_key(statement.prepared_name), statement);
    else
      statements_.erase(name_key(statement.prepared_name));
  } else if (statement.kind == "deallocate") {
    if (succeeded) statements_.erase(name_key(statement.prepared_name));
  } else if (may_change_any(statement)) {
    statements_.clear();
  }
}

}  // namespace portcullis::proto::mysql
