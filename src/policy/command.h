// Command: what a caller asked for, protocol-neutral. Protocol front ends build one per
// statement they are about to forward; the decision point, the journal and approvals read it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sql/statement.h"

namespace portcullis::policy {

struct Command {
  // The common part every rule can match.
  std::string_view protocol;  // "postgres"
  std::string connection;     // name of the connection in the configuration
  std::string text;           // the full text as the caller sent it
  // How it arrived, protocol-specific: for PostgreSQL "query" (simple protocol), "execute"
  // (extended protocol), "function_call" (FunctionCall message).
  std::string_view via;
  // Bound parameter values in text form, for extended-protocol statements (nullopt: NULL;
  // binary values are shown hex-encoded as \x...).
  std::vector<std::optional<std::string>> params;
  // The planner's estimate of the rows each statement writes (by index into the
  // classification's statements), for guardrails with `rows_over`; nullopt where it could not
  // be made. Empty when no such guardrail applies.
  std::vector<std::optional<uint64_t>> estimated_rows;

  // What the statement classifier found in `text`: one sql::Statement per statement, with
  // its kind, classes, tables, functions and flags. Shared with the classification cache.
  std::shared_ptr<const sql::Classification> classification;
};

}  // namespace portcullis::policy
