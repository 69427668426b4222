// What running a prepared statement does, added to the statement that runs it: SQL EXECUTE
// (both dialects) and PostgreSQL's FETCH of a protocol portal are decided, masked and
// journaled as the statement they run.
#pragma once

#include "sql/statement.h"

namespace portcullis::sql {

// Adds `prepared`'s classes and facts to `runner`, whose own facts stay (functions in
// EXECUTE's arguments run too). `runner.inner_kind` becomes the kind that actually runs: for a
// stored PREPARE or an already resolved EXECUTE, their inner kind.
void add_prepared_facts(Statement& runner, const Statement& prepared);

// Marks a statement whose prepared statement is not known: class unknown.
void mark_unknown(Statement& statement);

}  // namespace portcullis::sql
