// The statement table: kinds and classes of PostgreSQL 15's statement nodes, and the names
// the classifier gives statements and objects.
#pragma once

#include <string>
#include <string_view>

#include "sql/statement.h"

namespace portcullis::sql::postgres {

inline constexpr ClassSet kRead = static_cast<ClassSet>(StatementClass::read);
inline constexpr ClassSet kWrite = static_cast<ClassSet>(StatementClass::write);
inline constexpr ClassSet kDdl = static_cast<ClassSet>(StatementClass::ddl);
inline constexpr ClassSet kDcl = static_cast<ClassSet>(StatementClass::dcl);
inline constexpr ClassSet kAdmin = static_cast<ClassSet>(StatementClass::admin);
inline constexpr ClassSet kTransaction = static_cast<ClassSet>(StatementClass::transaction);
inline constexpr ClassSet kSession = static_cast<ClassSet>(StatementClass::session);
inline constexpr ClassSet kUnknown = static_cast<ClassSet>(StatementClass::unknown);

// PostgreSQL node type name → snake_case without the "Stmt" suffix: AlterTableStmt →
// alter_table, AlterTSConfigurationStmt → alter_ts_configuration.
std::string snake_kind(std::string_view type);

struct NodeRule {
  std::string_view type;
  std::string_view kind;  // empty: snake_kind(type)
  ClassSet classes;
};

// The rule of a statement node whose classes do not depend on its contents; null for the
// statements decided in code (SELECT, COPY, SET, EXPLAIN, ...) and for unknown nodes.
const NodeRule* find_rule(std::string_view type);

// OBJECT_MATVIEW → materialized_view, OBJECT_TABLE → table.
std::string object_kind(std::string_view objtype);

// Tables, views, indexes, sequences: objects whose DROP is recorded as a write to them.
bool is_relation_object(std::string_view objtype);

// Extensions, event triggers, foreign servers, languages: objects of the whole server.
bool is_server_object(std::string_view objtype);

}  // namespace portcullis::sql::postgres
