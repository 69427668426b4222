// The MCP tools' definitions and argument checks.
#include "proto/mcp/tool_catalog.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <cmath>
#include <initializer_list>
#include <string_view>

namespace portcullis::proto::mcp {
namespace json = boost::json;

namespace {

// The definitions, as the schemas a model reads. Every argument is checked by
// read_tool_call() against exactly these (unknown arguments are refused, not ignored).
constexpr std::string_view kDefinitions = R"json([
  {
    "name": "list_connections",
    "title": "List connections",
    "description": "Lists the connections (databases, hosts, clusters) you may reach through the gateway, with their kind and the classes of commands your access allows (read, write, ddl, admin, ...). Call it first to learn the connection names the other tools take.",
    "inputSchema": {"type": "object", "properties": {}, "additionalProperties": false},
    "annotations": {"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false}
  },
  {
    "name": "query",
    "title": "Run a SQL statement",
    "description": "Runs SQL on a PostgreSQL connection through the gateway, exactly as psql would: the statement is parsed and decided under your access (a read-only access refuses writes, whatever the text hides), recorded in the audit journal, and its results are masked (personal data and secrets) before you see them. Returns the columns and rows of each result. A statement that needs a person's approval returns status \"pending_review\" with a review id: call review_status with it, and once it is approved send the same query again (identical text) to run it once. Prefer one statement per call; add LIMIT to large reads.",
    "inputSchema": {
      "type": "object",
      "properties": {
        "connection": {"type": "string", "minLength": 1, "description": "The connection's name, from list_connections."},
        "sql": {"type": "string", "minLength": 1, "description": "The SQL text (PostgreSQL dialect)."},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100, "description": "The most rows returned per result; the answer says truncated when there were more."},
        "wait": {"type": "integer", "minimum": 0, "maximum": 300, "default": 0, "description": "Seconds to wait for a review's decision when the statement needs approval, before answering pending_review. 0 answers at once."}
      },
      "required": ["connection", "sql"],
      "additionalProperties": false
    },
    "annotations": {"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": false}
  },
  {
    "name": "review_status",
    "title": "Review status",
    "description": "Tells whether a review (the id a held call returned) is pending, approved, rejected or expired, who decided it and their comment.",
    "inputSchema": {
      "type": "object",
      "properties": {
        "review": {"type": "string", "pattern": "^r-[A-Za-z0-9-]+$", "description": "The review id, such as r-7f3a9c."}
      },
      "required": ["review"],
      "additionalProperties": false
    },
    "annotations": {"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false}
  }
])json";

Error invalid(std::string_view tool, std::string message) {
  return make_error(fmt::format("invalid arguments for tool \"{}\": {}", tool, message));
}

// Refuses arguments the schema does not name.
Result<void> only(std::string_view tool, const json::object& arguments,
                  std::initializer_list<std::string_view> names) {
  for (const auto& [key, value] : arguments) {
    bool known = false;
    for (auto name : names) known = known || key == name;
    if (!known) return invalid(tool, fmt::format("unknown argument \"{}\"", std::string(key)));
  }
  return {};
}

Result<std::string> required_string(std::string_view tool, const json::object& arguments,
                                    std::string_view name, std::size_t max_size) {
  const auto* value = arguments.if_contains(name);
  if (value == nullptr) return invalid(tool, fmt::format("\"{}\" is required", name));
  if (!value->is_string()) return invalid(tool, fmt::format("\"{}\" must be a string", name));
  const auto& text = value->get_string();
  if (text.empty()) return invalid(tool, fmt::format("\"{}\" must not be empty", name));
  if (text.size() > max_size)
    return invalid(tool, fmt::format("\"{}\" is longer than {} bytes", name, max_size));
  return std::string(text);
}

// An integer argument in [min, max]; `fallback` when absent. JSON numbers with no fraction
// (10.0) count as integers, as JSON Schema's "integer" says.
Result<int64_t> optional_integer(std::string_view tool, const json::object& arguments,
                                 std::string_view name, int64_t min, int64_t max,
                                 int64_t fallback) {
  const auto* value = arguments.if_contains(name);
  if (value == nullptr) return fallback;
  int64_t number = 0;
  if (value->is_int64()) {
    number = value->get_int64();
  } else if (value->is_uint64()) {
    number = value->get_uint64() > static_cast<uint64_t>(max)
                 ? max + 1
                 : static_cast<int64_t>(value->get_uint64());
  } else if (value->is_double() && std::trunc(value->get_double()) == value->get_double()) {
    // Bounded before the conversion: a double beyond int64_t (1e300, or a 20-digit number
    // the parser read as one) has no defined conversion.
    const double whole = value->get_double();
    if (whole < static_cast<double>(min) || whole > static_cast<double>(max))
      return invalid(tool, fmt::format("\"{}\" must be between {} and {}", name, min, max));
    number = static_cast<int64_t>(whole);
  } else {
    return invalid(tool, fmt::format("\"{}\" must be an integer", name));
  }
  if (number < min || number > max)
    return invalid(tool, fmt::format("\"{}\" must be between {} and {}", name, min, max));
  return number;
}

bool valid_review_id(std::string_view id) {
  if (id.size() < 3 || !id.starts_with("r-")) return false;
  for (char c : id.substr(2))
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
  return true;
}

}  // namespace

json::array tool_definitions() {
  static const json::array definitions = json::parse(kDefinitions).as_array();
  return definitions;
}

Result<ToolCall> read_tool_call(const json::object& params) {
  const auto* name_value = params.if_contains("name");
  if (name_value == nullptr || !name_value->is_string())
    return make_error("tools/call needs the tool's \"name\"");
  const std::string_view name = name_value->get_string();
  static const json::object kNone;
  const json::object* arguments = &kNone;
  if (const auto* given = params.if_contains("arguments"); given != nullptr && !given->is_null()) {
    if (!given->is_object()) return invalid(name, "\"arguments\" must be an object");
    arguments = &given->get_object();
  }

  if (name == "list_connections") {
    if (auto checked = only(name, *arguments, {}); !checked) return checked.error();
    return ToolCall{ListConnectionsCall{}};
  }
  if (name == "query") {
    if (auto checked = only(name, *arguments, {"connection", "sql", "max_rows", "wait"}); !checked)
      return checked.error();
    auto connection = required_string(name, *arguments, "connection", 256);
    if (!connection) return connection.error();
    auto sql = required_string(name, *arguments, "sql", kMaxSqlBytes);
    if (!sql) return sql.error();
    auto rows = optional_integer(name, *arguments, "max_rows", 1, kMaxRows, kDefaultRows);
    if (!rows) return rows.error();
    auto wait = optional_integer(name, *arguments, "wait", 0, kMaxWait.count(), 0);
    if (!wait) return wait.error();
    return ToolCall{QueryCall{.connection = std::move(*connection),
                              .sql = std::move(*sql),
                              .max_rows = static_cast<std::size_t>(*rows),
                              .wait = std::chrono::seconds(*wait)}};
  }
  if (name == "review_status") {
    if (auto checked = only(name, *arguments, {"review"}); !checked) return checked.error();
    auto review = required_string(name, *arguments, "review", 64);
    if (!review) return review.error();
    if (!valid_review_id(*review))
      return invalid(name, "\"review\" must be a review id such as r-7f3a9c");
    return ToolCall{ReviewStatusCall{.review = std::move(*review)}};
  }
  return make_error(fmt::format("unknown tool \"{}\"", name));
}

}  // namespace portcullis::proto::mcp
