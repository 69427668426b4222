// Guardrail matching: does a guardrail's `when` hold for one statement of a command.
#pragma once

#include "config/config.h"
#include "identity/identity.h"
#include "sql/statement.h"

namespace portcullis::policy {

// A guardrail matches a statement when at least one of the "what" criteria it states holds
// (statements, classes, functions, tables; none stated: any statement) and every qualifier
// it states holds too (where, connections, who). So `{statements: [copy_program],
// functions: [pg_read_file]}` catches either, and `{statements: [delete], where: absent}`
// catches only an unbounded DELETE.
// `rows_over` compares `estimated_rows`, the planner's estimate of the rows the statement
// writes: unknown (nullopt) matches, as a write the gateway cannot bound.
bool guardrail_matches(const config::GuardrailWhen& when, const sql::Statement& statement,
                       std::string_view connection, const identity::Identity& identity,
                       std::optional<uint64_t> estimated_rows = std::nullopt);

// Whether the statement writes rows: insert, update, delete or merge, itself or nested.
bool writes_rows(const sql::Statement& statement);

// Function names compare case-insensitively and without their schema: "pg_catalog.F"
// matches "f".
bool function_name_matches(std::string_view pattern, std::string_view called);

// Table patterns are globs (fnmatch) over "schema.table" and over the bare table name.
bool table_matches(std::string_view pattern, std::string_view table);

}  // namespace portcullis::policy
