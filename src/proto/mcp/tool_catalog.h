// The tools the MCP endpoint offers: their definitions as tools/list shows them (the input
// schemas a model reads to call them), and a tools/call's arguments checked against those
// schemas. Pure.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <variant>

#include "common/result.h"

namespace portcullis::proto::mcp {

// Bounds of a query's answer: the rows of each result a call may ask for, and the bytes of
// values kept in all (beyond them the answer says `truncated`).
inline constexpr std::size_t kDefaultRows = 100;
inline constexpr std::size_t kMaxRows = 1000;
inline constexpr std::size_t kMaxResultBytes = 4 * 1024 * 1024;
// How long a query's statements or an exec call's command may run (their `timeout`), by
// default and at most.
inline constexpr std::chrono::seconds kDefaultRunTimeout{60};
inline constexpr std::chrono::seconds kMaxRunTimeout{600};
// The longest a call may wait for a review's decision before it answers pending_review.
inline constexpr std::chrono::seconds kMaxWait{300};
// The longest statement text and command line a call may send: the API takes request bodies
// of up to 64 KiB, JSON-RPC's envelope and escapes included.
inline constexpr std::size_t kMaxSqlBytes = 48 * 1024;
inline constexpr std::size_t kMaxCommandBytes = 48 * 1024;

struct ListConnectionsCall {};

struct QueryCall {
  std::string connection;
  std::string sql;
  std::size_t max_rows = kDefaultRows;
  std::chrono::seconds wait{0};
  std::chrono::seconds timeout{kDefaultRunTimeout};
};

struct ExecCall {
  std::string connection;
  std::string command;
  std::chrono::seconds wait{0};
  std::chrono::seconds timeout{kDefaultRunTimeout};
};

struct KubernetesCall {
  std::string connection;
  std::string method;               // GET, POST, PUT, PATCH, DELETE
  std::string path;                 // absolute, with its query string
  std::optional<std::string> body;  // serialized JSON
  std::string content_type;         // of the body
  std::chrono::seconds wait{0};
};

struct ReviewStatusCall {
  std::string review;
};

using ToolCall =
    std::variant<ListConnectionsCall, QueryCall, ExecCall, KubernetesCall, ReviewStatusCall>;

// tools/list's `tools`.
boost::json::array tool_definitions();

// The tool and its arguments from tools/call's params ({"name": …, "arguments": {…}}); an
// error (answered as JSON-RPC's invalid params) names the unknown tool or the argument that
// does not fit its schema.
Result<ToolCall> read_tool_call(const boost::json::object& params);

}  // namespace portcullis::proto::mcp
