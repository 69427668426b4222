// Command: what a caller asked for. A common part every rule can match (protocol, connection,
// text) and a part of its protocol's kind: the SQL facts of a statement today; the command
// line of an SSH or kubectl exec, or a Kubernetes request's attributes, as front ends come.
// Front ends build one per command they are about to forward; the decision point, the
// journal and approvals read it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sql/statement.h"

namespace portcullis::policy {

// What happens to the command once it is allowed.
enum class Intent {
  run,      // it runs now: recorded with its outcome, held when a rule asks for a review
  prepare,  // a text kept to run later (PostgreSQL's Parse): recorded as prepared, never held;
            // every run of it is decided again
};

// The SQL part: PostgreSQL today (MySQL with its front end).
struct SqlCommand {
  // What the statement classifier found in the text: one sql::Statement per statement, with
  // its kind, classes, tables, functions and flags. Shared with the classification cache.
  std::shared_ptr<const sql::Classification> classification;
  // Whether values were bound to the text (extended protocol, fast-path call): they are
  // recorded, and an approval is bound to them.
  bool bound = false;
  // Bound parameter values in text form (nullopt: NULL; binary values are shown
  // hex-encoded as \x...).
  std::vector<std::optional<std::string>> params;
  // The planner's estimate of the rows each statement writes (by index into the
  // classification's statements), for guardrails with `rows_over`; nullopt where it could not
  // be made. Empty when no such guardrail applies.
  std::vector<std::optional<uint64_t>> estimated_rows;
};

struct Command {
  // The common part every rule can match.
  std::string_view protocol;  // the front end's name: "postgres"
  std::string connection;     // name of the connection in the configuration
  std::string text;           // the full text as the caller sent it
  // How it arrived, in the protocol's own words, for logs and tests: for PostgreSQL "query"
  // (simple protocol), "parse", "execute" (extended protocol), "function_call".
  std::string_view via;
  Intent intent = Intent::run;
  // The protocol's part.
  std::variant<SqlCommand> detail;

  const SqlCommand* sql() const { return std::get_if<SqlCommand>(&detail); }
  SqlCommand* sql() { return std::get_if<SqlCommand>(&detail); }
};

}  // namespace portcullis::policy
