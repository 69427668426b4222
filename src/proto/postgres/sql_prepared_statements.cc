// Resolution of SQL-level EXECUTE against the session's SQL-level PREPAREs.
#include "proto/postgres/sql_prepared_statements.h"

#include <fmt/format.h>

#include <algorithm>

namespace portcullis::proto::postgres {
namespace {

// EXECUTE of an EXECUTE of ...: deeper than this is refused as unknown.
constexpr int kMaxResolveDepth = 4;

bool runs_prepared(const sql::Statement& s) {
  return s.kind == "execute" || s.inner_kind == "execute";
}

void add_unique(std::vector<std::string>& into, const std::vector<std::string>& from) {
  for (const auto& item : from)
    if (std::find(into.begin(), into.end(), item) == into.end()) into.push_back(item);
}

// Everything the prepared statement will do, added to the statement that runs it. The
// runner's own facts stay: functions in EXECUTE's arguments run too.
void merge_prepared(sql::Statement& runner, const sql::Statement& prepared) {
  runner.classes |= prepared.classes;
  // A SQL PREPARE is stored as the PREPARE statement, an EXECUTE it runs is resolved already:
  // in both, the inner kind is what actually runs.
  runner.inner_kind = prepared.kind == "prepare" || prepared.kind == "execute" ? prepared.inner_kind
                                                                               : prepared.kind;
  add_unique(runner.nested_kinds, prepared.nested_kinds);
  add_unique(runner.tables_read, prepared.tables_read);
  add_unique(runner.tables_written, prepared.tables_written);
  add_unique(runner.functions, prepared.functions);
  runner.where_absent = runner.where_absent || prepared.where_absent;
  runner.lifts_read_only = runner.lifts_read_only || prepared.lifts_read_only;
  runner.changes_text_reading = runner.changes_text_reading || prepared.changes_text_reading;
  runner.calls_unknown_functions =
      runner.calls_unknown_functions || prepared.calls_unknown_functions;
  add_unique(runner.columns_referenced, prepared.columns_referenced);
  runner.whole_row_reference = runner.whole_row_reference || prepared.whole_row_reference;
}

bool reads_cursor(const sql::Statement& statement) {
  return (statement.kind == "fetch" || statement.kind == "move") && !statement.cursor_name.empty();
}

void mark_unknown(sql::Statement& statement) {
  statement.classes |= static_cast<sql::ClassSet>(sql::StatementClass::unknown);
}

}  // namespace

std::shared_ptr<const sql::Classification> SqlPreparedStatements::resolve(
    std::shared_ptr<const sql::Classification> classification, const Fallback& fallback) const {
  const auto& statements = classification->statements;
  if (std::none_of(statements.begin(), statements.end(), runs_prepared)) return classification;
  auto resolved = std::make_shared<sql::Classification>(*classification);
  for (auto& statement : resolved->statements)
    if (runs_prepared(statement)) resolve_one(statement, fallback, 0);
  return resolved;
}

void SqlPreparedStatements::resolve_one(sql::Statement& statement, const Fallback& fallback,
                                        int depth) const {
  if (depth > kMaxResolveDepth) {
    mark_unknown(statement);
    return;
  }
  if (statement.prepared_name.empty()) {
    // EXPLAIN EXECUTE without ANALYZE plans and runs nothing; an EXECUTE always has a name.
    if (statement.kind == "execute") mark_unknown(statement);
    return;
  }
  const auto found = statements_.find(statement.prepared_name);
  if (found != statements_.end()) {
    if (found->second.ambiguous) {
      mark_unknown(statement);
      return;
    }
    merge_prepared(statement, found->second.statement);
    return;
  }
  // Not prepared with SQL: perhaps with the protocol's Parse.
  auto other = fallback ? fallback(statement.prepared_name) : nullptr;
  if (!other || other->statements.size() != 1) {
    mark_unknown(statement);
    return;
  }
  sql::Statement prepared = other->statements.front();
  if (runs_prepared(prepared)) resolve_one(prepared, fallback, depth + 1);
  merge_prepared(statement, prepared);
}

std::shared_ptr<const sql::Classification> SqlPreparedStatements::resolve_portals(
    std::shared_ptr<const sql::Classification> classification, const PortalLookup& portal) {
  const auto& statements = classification->statements;
  if (std::none_of(statements.begin(), statements.end(), reads_cursor)) return classification;
  std::shared_ptr<sql::Classification> resolved;
  for (std::size_t i = 0; i < statements.size(); ++i) {
    if (!reads_cursor(statements[i])) continue;
    const auto behind = portal(statements[i].cursor_name);
    if (!behind) continue;  // a cursor of SQL DECLARE: decided when it was declared
    if (!resolved) resolved = std::make_shared<sql::Classification>(*classification);
    auto& runner = resolved->statements[i];
    std::string text;
    for (const auto& statement : behind->statements) {
      merge_prepared(runner, statement);
      if (!text.empty()) text += "; ";
      text += statement.redacted_text.empty() ? statement.text : statement.redacted_text;
    }
    if (!behind->parse_error.empty() || behind->statements.empty()) mark_unknown(runner);
    // The journal records what the FETCH runs, not only its name.
    runner.text += fmt::format(" /* portal \"{}\": {} */", runner.cursor_name, text);
    if (!runner.redacted_text.empty())
      runner.redacted_text += fmt::format(" /* portal \"{}\": {} */", runner.cursor_name, text);
  }
  if (!resolved) return classification;
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
