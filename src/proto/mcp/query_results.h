// What the query tool gets back from a database front end, whichever the protocol: the
// results of the statement(s) as the front end sent them (masked), bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/mcp/tool_session.h"

namespace portcullis::proto::mcp {

// How a column's values read as JSON.
enum class ValueKind {
  text,     // as the protocol's text form has them
  integer,  // a JSON number when the (masked) text still reads as one
  boolean,  // PostgreSQL's t / f
};

struct ToolColumn {
  std::string name;
  std::string type;  // the database's name for it: "integer", "varchar", ...
  ValueKind kind = ValueKind::text;
};

// One result of a statement: its columns and the rows kept (values in text form, masked;
// nullopt for NULL).
struct ToolResult {
  std::vector<ToolColumn> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::string command;  // PostgreSQL's CommandComplete tag ("SELECT 3"); MySQL: "OK" or empty
  std::optional<uint64_t> affected_rows;  // MySQL's OK packet
  std::size_t rows_sent = 0;              // every row that came back, kept or not
  bool truncated = false;
};

struct QueryAnswer {
  std::vector<ToolResult> results;
  std::optional<ToolError> error;  // the error that ended the statement(s), if one did
  std::vector<std::string> notices;
  // The review the statement was held for (empty when none): its status in the store says
  // whether the statement ran in this call (executed) or still waits (pending).
  std::string review;
  char transaction = 'I';  // the session's transaction status afterwards (I, T, E)
  // Still running at its timeout: cancelled (PostgreSQL) or its connection closed (MySQL).
  bool timed_out = false;
};

// What kept values cost toward QueryLimits::max_bytes beyond their bytes: a NULL or an empty
// value is not free to keep and to send as JSON, nor is a row or a result.
inline constexpr std::size_t kValueCost = 16;
inline constexpr std::size_t kRowCost = 32;
inline constexpr std::size_t kResultCost = 256;
// Notices kept per call (a loop of RAISE NOTICE sends without end), and of each its first
// bytes.
inline constexpr std::size_t kMaxNotices = 50;
inline constexpr std::size_t kMaxNoticeBytes = 1024;

struct QueryLimits {
  std::size_t max_rows = 100;               // per result
  std::size_t max_bytes = 4 * 1024 * 1024;  // of values, over all results
  std::chrono::seconds wait{0};             // for a review's decision
  std::chrono::seconds timeout{60};         // for the statement(s), once they run
};

}  // namespace portcullis::proto::mcp
