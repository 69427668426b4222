// The MCP tools' definitions and argument checks.
#include "proto/mcp/tool_catalog.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
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
    "description": "Runs SQL on a database connection (PostgreSQL, MySQL or MariaDB) through the gateway, exactly as psql or the mariadb client would: the statement is parsed and decided under your access (a read-only access refuses writes, whatever the text hides), recorded in the audit journal, and its results are masked (personal data and secrets) before you see them. Returns the columns and rows of each result. A statement that needs a person's approval returns status \"pending_review\" with a review id: call review_status with it, and once it is approved send the same query again (identical text) to run it once. Prefer one statement per call; add LIMIT to large reads.",
    "inputSchema": {
      "type": "object",
      "properties": {
        "connection": {"type": "string", "minLength": 1, "maxLength": 256, "description": "The connection's name, from list_connections."},
        "sql": {"type": "string", "minLength": 1, "maxLength": 49152, "description": "The SQL text, in the connection's dialect (list_connections gives its kind)."},
        "max_rows": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100, "description": "The most rows returned per result; the answer says truncated when there were more."},
        "wait": {"type": "integer", "minimum": 0, "maximum": 300, "default": 0, "description": "Seconds to wait for a review's decision when the statement needs approval, before answering pending_review. 0 answers at once."},
        "timeout": {"type": "integer", "minimum": 1, "maximum": 600, "default": 60, "description": "Seconds the statements may run; past them they are cancelled and the answer says timed_out."}
      },
      "required": ["connection", "sql"],
      "additionalProperties": false
    },
    "annotations": {"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": false}
  },
  {
    "name": "exec",
    "title": "Run a shell command",
    "description": "Runs a shell command on an SSH connection (a host) through the gateway, exactly as `ssh HOST COMMAND` would: every program in the command line (pipelines, subshells, sh -c texts, find -exec ...) is decided under your access, the command is recorded in the audit journal, and its output is masked before you see it. Returns stdout, stderr and the exit status. A command that needs a person's approval returns status \"pending_review\" with a review id: once review_status says approved, send the same command again (identical text) to run it once.",
    "inputSchema": {
      "type": "object",
      "properties": {
        "connection": {"type": "string", "minLength": 1, "maxLength": 256, "description": "The connection's name, from list_connections."},
        "command": {"type": "string", "minLength": 1, "maxLength": 49152, "description": "The command line, as a POSIX shell reads it."},
        "timeout": {"type": "integer", "minimum": 1, "maximum": 600, "default": 60, "description": "Seconds the command may run; past them it is ended and the output so far comes back with timed_out."},
        "wait": {"type": "integer", "minimum": 0, "maximum": 300, "default": 0, "description": "Seconds to wait for a review's decision when the command needs approval, before answering pending_review. 0 answers at once."}
      },
      "required": ["connection", "command"],
      "additionalProperties": false
    },
    "annotations": {"readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": false}
  },
  {
    "name": "kubernetes",
    "title": "Call the Kubernetes API",
    "description": "Sends one request to a Kubernetes connection's API server through the gateway, exactly as kubectl would: it is decided under your access (verb, resource, namespace, name), recorded in the audit journal, Secret values are redacted unless your access allows secrets, and the response is masked. Returns the HTTP status and the JSON response. Paths are the API's own: /api/v1/namespaces/default/pods, /apis/apps/v1/namespaces/prod/deployments/web, with a query string where needed (?labelSelector=app%3Dweb). A request that needs a person's approval returns status \"pending_review\" with a review id: once review_status says approved, send the same request again to run it once.",
    "inputSchema": {
      "type": "object",
      "properties": {
        "connection": {"type": "string", "minLength": 1, "maxLength": 256, "description": "The connection's name, from list_connections."},
        "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
        "path": {"type": "string", "pattern": "^/", "minLength": 1, "maxLength": 4096, "description": "The API path, starting with /api or /apis, with its query string."},
        "body": {"type": "object", "description": "The JSON body of a POST, PUT or PATCH."},
        "patch_type": {"type": "string", "enum": ["merge", "strategic", "json"], "default": "merge", "description": "For PATCH: a JSON merge patch, a strategic merge patch, or a JSON patch (then body is {\"patch\": [...]})."},
        "wait": {"type": "integer", "minimum": 0, "maximum": 300, "default": 0, "description": "Seconds to wait for a review's decision when the request needs approval, before answering pending_review. 0 answers at once."}
      },
      "required": ["connection", "method", "path"],
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
        "review": {"type": "string", "pattern": "^r-[A-Za-z0-9-]+$", "maxLength": 64, "description": "The review id, such as r-7f3a9c."}
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
                                    std::string_view name, std::size_t max_size);

bool valid_connection_name(std::string_view name);

Result<std::string> connection_name(std::string_view tool, const json::object& arguments) {
  auto name = required_string(tool, arguments, "connection", 256);
  if (name && !valid_connection_name(*name))
    return invalid(tool, "\"connection\" is not a connection's name");
  return name;
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

// A connection's name as configurations write them: no spaces, no control characters, nothing
// that would read as a path's or URL's own syntax where a tool puts the name (the
// kubernetes tool's /k8s/NAME/...).
bool valid_connection_name(std::string_view name) {
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%' || c == '\\')
      return false;
  }
  return true;
}

// An API path as an HTTP request line carries it: visible ASCII (other bytes percent-encoded),
// no fragment.
bool valid_request_path(std::string_view path) {
  for (char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f || c == '#') return false;
  }
  return true;
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
    if (auto checked = only(name, *arguments, {"connection", "sql", "max_rows", "wait", "timeout"});
        !checked)
      return checked.error();
    auto connection = connection_name(name, *arguments);
    if (!connection) return connection.error();
    auto sql = required_string(name, *arguments, "sql", kMaxSqlBytes);
    if (!sql) return sql.error();
    auto rows = optional_integer(name, *arguments, "max_rows", 1, kMaxRows, kDefaultRows);
    if (!rows) return rows.error();
    auto wait = optional_integer(name, *arguments, "wait", 0, kMaxWait.count(), 0);
    if (!wait) return wait.error();
    auto timeout = optional_integer(name, *arguments, "timeout", 1, kMaxRunTimeout.count(),
                                    kDefaultRunTimeout.count());
    if (!timeout) return timeout.error();
    return ToolCall{QueryCall{.connection = std::move(*connection),
                              .sql = std::move(*sql),
                              .max_rows = static_cast<std::size_t>(*rows),
                              .wait = std::chrono::seconds(*wait),
                              .timeout = std::chrono::seconds(*timeout)}};
  }
  if (name == "exec") {
    if (auto checked = only(name, *arguments, {"connection", "command", "wait", "timeout"});
        !checked)
      return checked.error();
    auto connection = connection_name(name, *arguments);
    if (!connection) return connection.error();
    auto command = required_string(name, *arguments, "command", kMaxCommandBytes);
    if (!command) return command.error();
    auto wait = optional_integer(name, *arguments, "wait", 0, kMaxWait.count(), 0);
    if (!wait) return wait.error();
    auto timeout = optional_integer(name, *arguments, "timeout", 1, kMaxRunTimeout.count(),
                                    kDefaultRunTimeout.count());
    if (!timeout) return timeout.error();
    return ToolCall{ExecCall{.connection = std::move(*connection),
                             .command = std::move(*command),
                             .wait = std::chrono::seconds(*wait),
                             .timeout = std::chrono::seconds(*timeout)}};
  }
  if (name == "kubernetes") {
    if (auto checked =
            only(name, *arguments, {"connection", "method", "path", "body", "patch_type", "wait"});
        !checked)
      return checked.error();
    auto connection = connection_name(name, *arguments);
    if (!connection) return connection.error();
    auto method = required_string(name, *arguments, "method", 8);
    if (!method) return method.error();
    if (*method != "GET" && *method != "POST" && *method != "PUT" && *method != "PATCH" &&
        *method != "DELETE")
      return invalid(name, "\"method\" must be one of GET, POST, PUT, PATCH, DELETE");
    auto path = required_string(name, *arguments, "path", 4096);
    if (!path) return path.error();
    if (!path->starts_with("/")) return invalid(name, "\"path\" must start with /");
    if (!valid_request_path(*path))
      return invalid(name,
                     "\"path\" must be visible ASCII with no '#' (percent-encode other bytes)");
    std::optional<std::string> body;
    if (const auto* given = arguments->if_contains("body")) {
      if (!given->is_object()) return invalid(name, "\"body\" must be an object");
      if (*method == "GET" || *method == "DELETE")
        return invalid(name, "\"body\" is for POST, PUT and PATCH");
      body = json::serialize(*given);
    }
    std::string content_type = "application/json";
    if (*method == "PATCH") {
      std::string patch = "merge";
      if (const auto* given = arguments->if_contains("patch_type")) {
        if (!given->is_string()) return invalid(name, "\"patch_type\" must be a string");
        patch = std::string(given->get_string());
      }
      if (patch == "merge") {
        content_type = "application/merge-patch+json";
      } else if (patch == "strategic") {
        content_type = "application/strategic-merge-patch+json";
      } else if (patch == "json") {
        content_type = "application/json-patch+json";
        // A JSON patch is an array; the schema's body is an object that holds it.
        if (body) {
          const auto& holder = arguments->at("body").get_object();
          const auto* operations = holder.if_contains("patch");
          if (operations == nullptr || !operations->is_array() || holder.size() != 1)
            return invalid(name, "a JSON patch's body is {\"patch\": [operations]}");
          body = json::serialize(*operations);
        }
      } else {
        return invalid(name, "\"patch_type\" must be merge, strategic or json");
      }
    } else if (arguments->contains("patch_type")) {
      return invalid(name, "\"patch_type\" is for PATCH");
    }
    auto wait = optional_integer(name, *arguments, "wait", 0, kMaxWait.count(), 0);
    if (!wait) return wait.error();
    return ToolCall{KubernetesCall{.connection = std::move(*connection),
                                   .method = std::move(*method),
                                   .path = std::move(*path),
                                   .body = std::move(body),
                                   .content_type = std::move(content_type),
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
