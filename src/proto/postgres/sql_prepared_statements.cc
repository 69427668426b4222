// Resolution of SQL-level EXECUTE against the session's SQL-level PREPAREs.
#include "proto/postgres/sql_prepared_statements.h"

#include <fmt/format.h>

#include <algorithm>

#include "sql/prepared_facts.h"

namespace portcullis::proto::postgres {
namespace {

// EXECUTE of an EXECUTE of ...: deeper than this is refused as unknown.
constexpr int kMaxResolveDepth = 4;

bool runs_prepared(const sql::Statement& s) {
  return s.kind == "execute" || s.inner_kind == "execute";
}

bool reads_cursor(const sql::Statement& statement) {
  return (statement.kind == "fetch" || statement.kind == "move") && !statement.cursor_name.empty();
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
    sql::mark_unknown(statement);
    return;
  }
  if (statement.prepared_name.empty()) {
    // EXPLAIN EXECUTE without ANALYZE plans and runs nothing; an EXECUTE always has a name.
    if (statement.kind == "execute") sql::mark_unknown(statement);
    return;
  }
  const auto found = statements_.find(statement.prepared_name);
  if (found != statements_.end()) {
    if (found->second.ambiguous) {
      sql::mark_unknown(statement);
      return;
    }
    sql::add_prepared_facts(statement, found->second.statement);
    return;
  }
  // Not prepared with SQL: perhaps with the protocol's Parse.
  auto other = fallback ? fallback(statement.prepared_name) : nullptr;
  if (!other || other->statements.size() != 1) {
    sql::mark_unknown(statement);
    return;
  }
  sql::Statement prepared = other->statements.front();
  if (runs_prepared(prepared)) resolve_one(prepared, fallback, depth + 1);
  sql::add_prepared_facts(statement, prepared);
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
      sql::add_prepared_facts(runner, statement);
      if (!text.empty()) text += "; ";
      text += statement.redacted_text.empty() ? statement.text : statement.redacted_text;
    }
    if (!behind->parse_error.empty() || behind->statements.empty()) sql::mark_unknown(runner);
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
