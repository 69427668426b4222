// The tools as tools/list shows them, and tools/call's arguments checked against them: the
// schemas a model reads and the checks the endpoint makes must say the same thing.
#include "proto/mcp/tool_catalog.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <string>
#include <vector>

namespace portcullis::proto::mcp {
namespace {

namespace json = boost::json;

json::object params_of(std::string_view text) {
  return json::parse(text).as_object();
}

json::object call(std::string_view name, json::object arguments) {
  return json::object{{"name", name}, {"arguments", std::move(arguments)}};
}

ToolCall accepted(const json::object& params) {
  auto out = read_tool_call(params);
  if (!out) {
    ADD_FAILURE() << "refused " << json::serialize(params) << ": " << out.error().message;
    return ListConnectionsCall{};
  }
  return *out;
}

std::string refusal(const json::object& params) {
  auto out = read_tool_call(params);
  if (out) {
    ADD_FAILURE() << "accepted " << json::serialize(params);
    return {};
  }
  EXPECT_FALSE(out.error().message.empty());
  return out.error().message;
}

QueryCall accepted_query(json::object arguments) {
  auto tool = accepted(call("query", std::move(arguments)));
  auto* query = std::get_if<QueryCall>(&tool);
  if (query == nullptr) {
    ADD_FAILURE() << "not a query";
    return {};
  }
  return *query;
}

const json::object& schema_of(const json::value& tool) {
  return tool.at("inputSchema").as_object();
}

TEST(ToolDefinitions, NameTheFiveToolsWithClosedObjectSchemas) {
  const auto tools = tool_definitions();
  std::vector<std::string> names;
  for (const auto& tool : tools) {
    const auto& object = tool.as_object();
    names.emplace_back(object.at("name").as_string());
    SCOPED_TRACE(names.back());
    EXPECT_FALSE(object.at("description").as_string().empty());
    const auto& schema = schema_of(tool);
    EXPECT_EQ(schema.at("type"), json::value("object"));
    EXPECT_TRUE(schema.at("properties").is_object());
    EXPECT_EQ(schema.at("additionalProperties"), json::value(false));
    if (const auto* required = schema.if_contains("required")) {
      for (const auto& name : required->as_array())
        EXPECT_TRUE(schema.at("properties").as_object().contains(name.as_string()))
            << json::serialize(name) << " is required but not a property";
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"list_connections", "query", "exec", "kubernetes",
                                             "review_status"}));
}

// A value the schema of one property takes, built from the schema alone.
json::value valid_value(const json::object& property) {
  const auto& type = property.at("type").as_string();
  if (type == "integer") {
    if (const auto* fallback = property.if_contains("default")) return *fallback;
    return property.at("minimum");
  }
  if (type == "object") return json::object{};
  EXPECT_EQ(type, "string");
  if (const auto* choices = property.if_contains("enum")) {
    // PATCH where it is offered: the one method every other argument (a body, a patch type)
    // goes with.
    for (const auto& choice : choices->as_array())
      if (choice.as_string() == "PATCH") return choice;
    return choices->as_array().at(0);
  }
  if (const auto* pattern = property.if_contains("pattern")) {
    // The patterns the catalog has; a new one needs a value here.
    if (pattern->as_string() == "^/") return "/api/v1/namespaces/default/pods";
    EXPECT_EQ(pattern->as_string(), "^r-[A-Za-z0-9-]+$");
    return "r-7f3a9c";
  }
  return "x";
}

struct Arguments {
  json::object all;                    // every property the schema names
  std::vector<std::string> required;   // those the schema requires
  std::vector<std::string> optional_;  // the others
};

Arguments arguments_from_schema(const json::value& tool) {
  const auto& schema = schema_of(tool);
  Arguments out;
  std::set<std::string> required;
  if (const auto* listed = schema.if_contains("required")) {
    for (const auto& name : listed->as_array()) required.emplace(name.as_string());
  }
  for (const auto& [name, property] : schema.at("properties").as_object()) {
    out.all[name] = valid_value(property.as_object());
    (required.contains(std::string(name)) ? out.required : out.optional_).emplace_back(name);
  }
  return out;
}

TEST(ToolDefinitions, EveryPropertyOfEverySchemaIsAccepted) {
  for (const auto& tool : tool_definitions()) {
    const std::string name(tool.at("name").as_string());
    SCOPED_TRACE(name);
    const auto arguments = arguments_from_schema(tool);
    accepted(call(name, arguments.all));
    // Each property on its own beside the required ones: a name the schema offers that the
    // check does not know would be refused as unknown here.
    for (const auto& optional : arguments.optional_) {
      json::object some;
      for (const auto& required : arguments.required) some[required] = arguments.all.at(required);
      some[optional] = arguments.all.at(optional);
      accepted(call(name, some));
    }
  }
}

TEST(ToolDefinitions, EveryRequiredPropertyIsRequiredAndNoOther) {
  for (const auto& tool : tool_definitions()) {
    const std::string name(tool.at("name").as_string());
    SCOPED_TRACE(name);
    const auto arguments = arguments_from_schema(tool);
    json::object only_required;
    for (const auto& required : arguments.required)
      only_required[required] = arguments.all.at(required);
    accepted(call(name, only_required));
    for (const auto& required : arguments.required) {
      SCOPED_TRACE(required);
      auto missing = arguments.all;
      missing.erase(required);
      EXPECT_NE(refusal(call(name, missing)).find(required), std::string::npos);
    }
  }
}

TEST(ToolDefinitions, EverySchemaRefusesAnUnknownArgument) {
  for (const auto& tool : tool_definitions()) {
    const std::string name(tool.at("name").as_string());
    SCOPED_TRACE(name);
    auto arguments = arguments_from_schema(tool).all;
    arguments["surplus"] = 1;
    EXPECT_NE(refusal(call(name, arguments)).find("unknown argument \"surplus\""),
              std::string::npos);
  }
}

TEST(ReadToolCall, ReadsListConnections) {
  EXPECT_TRUE(std::holds_alternative<ListConnectionsCall>(
      accepted(params_of(R"({"name":"list_connections","arguments":{}})"))));
  EXPECT_TRUE(std::holds_alternative<ListConnectionsCall>(
      accepted(params_of(R"({"name":"list_connections"})"))));
}

TEST(ReadToolCall, TakesNullArgumentsAsNone) {
  EXPECT_TRUE(std::holds_alternative<ListConnectionsCall>(
      accepted(params_of(R"({"name":"list_connections","arguments":null})"))));
  // And so a tool with required arguments says which is missing.
  EXPECT_NE(refusal(params_of(R"({"name":"query","arguments":null})")).find("\"connection\""),
            std::string::npos);
}

TEST(ReadToolCall, ReadsAQueryWithItsDefaults) {
  const auto query = accepted_query({{"connection", "app-db"}, {"sql", "select 1"}});
  EXPECT_EQ(query.connection, "app-db");
  EXPECT_EQ(query.sql, "select 1");
  EXPECT_EQ(query.max_rows, 100u);
  EXPECT_EQ(query.max_rows, kDefaultRows);
  EXPECT_EQ(query.wait, std::chrono::seconds(0));
}

TEST(ReadToolCall, ReadsAQueryWithEveryArgument) {
  const auto query =
      accepted_query({{"connection", "c"}, {"sql", "select 2"}, {"max_rows", 1000}, {"wait", 300}});
  EXPECT_EQ(query.max_rows, 1000u);
  EXPECT_EQ(query.wait, std::chrono::seconds(300));
  EXPECT_EQ(query.wait, kMaxWait);
}

TEST(ReadToolCall, TakesAWholeFloatAsAnInteger) {
  const auto query =
      accepted_query(params_of(R"({"connection":"c","sql":"s","max_rows":10.0,"wait":1.0})"));
  EXPECT_EQ(query.max_rows, 10u);
  EXPECT_EQ(query.wait, std::chrono::seconds(1));
  EXPECT_EQ(accepted_query(params_of(R"({"connection":"c","sql":"s","max_rows":1e2})")).max_rows,
            100u);
}

TEST(ReadToolCall, TakesTheLongestStatement) {
  const auto query = accepted_query({{"connection", "c"}, {"sql", std::string(kMaxSqlBytes, 'x')}});
  EXPECT_EQ(query.sql.size(), kMaxSqlBytes);
}

struct BadCall {
  std::string_view name;
  std::string_view params;
  std::string_view says;  // a part of the message
};

class ReadToolCallRefusal : public ::testing::TestWithParam<BadCall> {};

TEST_P(ReadToolCallRefusal, SaysWhy) {
  const auto& bad = GetParam();
  const auto message = refusal(params_of(bad.params));
  EXPECT_NE(message.find(bad.says), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Params, ReadToolCallRefusal,
    ::testing::Values(
        BadCall{"UnknownTool", R"({"name":"drop_database","arguments":{}})",
                "unknown tool \"drop_database\""},
        BadCall{"EmptyToolName", R"({"name":"","arguments":{}})", "unknown tool"},
        BadCall{"MissingName", R"({"arguments":{}})", "\"name\""},
        BadCall{"NumericName", R"({"name":1})", "\"name\""},
        BadCall{"ArgumentsArray", R"({"name":"list_connections","arguments":[]})",
                "\"arguments\" must be an object"},
        BadCall{"ArgumentsString", R"({"name":"query","arguments":"select 1"})",
                "\"arguments\" must be an object"},
        BadCall{"ListConnectionsArgument",
                R"({"name":"list_connections","arguments":{"all":true}})",
                "unknown argument \"all\""},
        BadCall{"QueryUnknownArgument",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","database":"d"}})",
                "unknown argument \"database\""},
        BadCall{"QueryMissingSql", R"({"name":"query","arguments":{"connection":"c"}})",
                "\"sql\" is required"},
        BadCall{"QueryEmptySql", R"({"name":"query","arguments":{"connection":"c","sql":""}})",
                "\"sql\" must not be empty"},
        BadCall{"QueryNumericSql", R"({"name":"query","arguments":{"connection":"c","sql":1}})",
                "\"sql\" must be a string"},
        BadCall{"QueryEmptyConnection",
                R"({"name":"query","arguments":{"connection":"","sql":"s"}})",
                "\"connection\" must not be empty"},
        BadCall{"QueryNumericConnection",
                R"({"name":"query","arguments":{"connection":5,"sql":"s"}})",
                "\"connection\" must be a string"},
        BadCall{"QueryNullConnection",
                R"({"name":"query","arguments":{"connection":null,"sql":"s"}})",
                "\"connection\" must be a string"},
        BadCall{"MaxRowsZero",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","max_rows":0}})",
                "\"max_rows\" must be between 1 and 1000"},
        BadCall{"MaxRowsNegative",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","max_rows":-1}})",
                "\"max_rows\" must be between 1 and 1000"},
        BadCall{"MaxRowsOverLimit",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","max_rows":1001}})",
                "\"max_rows\" must be between 1 and 1000"},
        BadCall{
            "MaxRowsHuge",
            R"({"name":"query","arguments":{"connection":"c","sql":"s","max_rows":18446744073709551615}})",
            "\"max_rows\" must be between 1 and 1000"},
        BadCall{"MaxRowsString",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","max_rows":"10"}})",
                "\"max_rows\" must be an integer"},
        BadCall{"MaxRowsFraction",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","max_rows":2.5}})",
                "\"max_rows\" must be an integer"},
        BadCall{"MaxRowsBool",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","max_rows":true}})",
                "\"max_rows\" must be an integer"},
        BadCall{"MaxRowsNull",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","max_rows":null}})",
                "\"max_rows\" must be an integer"},
        BadCall{"WaitNegative",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","wait":-1}})",
                "\"wait\" must be between 0 and 300"},
        BadCall{"WaitOverLimit",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","wait":301}})",
                "\"wait\" must be between 0 and 300"},
        BadCall{"WaitFraction",
                R"({"name":"query","arguments":{"connection":"c","sql":"s","wait":0.5}})",
                "\"wait\" must be an integer"},
        BadCall{"ReviewMissing", R"({"name":"review_status","arguments":{}})",
                "\"review\" is required"},
        BadCall{"ReviewNumeric", R"({"name":"review_status","arguments":{"review":7}})",
                "\"review\" must be a string"},
        BadCall{"ReviewNoPrefix", R"({"name":"review_status","arguments":{"review":"x"}})",
                "review id"},
        BadCall{"ReviewPrefixOnly", R"({"name":"review_status","arguments":{"review":"r-"}})",
                "review id"},
        BadCall{"ReviewSpace", R"({"name":"review_status","arguments":{"review":"r-a b"}})",
                "review id"},
        BadCall{"ReviewMarkup", R"({"name":"review_status","arguments":{"review":"r-<script>"}})",
                "review id"},
        BadCall{"ReviewUpperPrefix", R"({"name":"review_status","arguments":{"review":"R-abc"}})",
                "review id"},
        BadCall{"ReviewNonAscii", R"({"name":"review_status","arguments":{"review":"r-\u00e9"}})",
                "review id"},
        BadCall{"ExecNoCommand", R"({"name":"exec","arguments":{"connection":"web"}})",
                "\"command\" is required"},
        BadCall{"ExecTimeoutZero",
                R"({"name":"exec","arguments":{"connection":"web","command":"ls","timeout":0}})",
                "\"timeout\" must be between 1 and 600"},
        BadCall{"ExecTimeoutOver",
                R"({"name":"exec","arguments":{"connection":"web","command":"ls","timeout":601}})",
                "\"timeout\" must be between 1 and 600"},
        BadCall{
            "KubeMethodUnknown",
            R"({"name":"kubernetes","arguments":{"connection":"k","method":"TRACE","path":"/api"}})",
            "\"method\" must be one of"},
        BadCall{
            "KubeMethodLowerCase",
            R"({"name":"kubernetes","arguments":{"connection":"k","method":"get","path":"/api"}})",
            "\"method\" must be one of"},
        BadCall{
            "KubeRelativePath",
            R"({"name":"kubernetes","arguments":{"connection":"k","method":"GET","path":"api/v1"}})",
            "\"path\" must start with /"},
        BadCall{
            "KubeBodyOnGet",
            R"({"name":"kubernetes","arguments":{"connection":"k","method":"GET","path":"/api","body":{}}})",
            "\"body\" is for POST, PUT and PATCH"},
        BadCall{
            "KubeBodyNotObject",
            R"({"name":"kubernetes","arguments":{"connection":"k","method":"POST","path":"/api","body":[1]}})",
            "\"body\" must be an object"},
        BadCall{
            "KubePatchTypeOnPost",
            R"({"name":"kubernetes","arguments":{"connection":"k","method":"POST","path":"/api","patch_type":"merge"}})",
            "\"patch_type\" is for PATCH"},
        BadCall{
            "KubePatchTypeUnknown",
            R"({"name":"kubernetes","arguments":{"connection":"k","method":"PATCH","path":"/api","patch_type":"xml"}})",
            "\"patch_type\" must be merge, strategic or json"},
        BadCall{
            "KubeJsonPatchNotHeld",
            R"({"name":"kubernetes","arguments":{"connection":"k","method":"PATCH","path":"/api","patch_type":"json","body":{"op":"add"}}})",
            "a JSON patch's body is"}),
    [](const auto& info) { return std::string(info.param.name); });

// Numbers past the range of a 64-bit integer: refused like any integer out of bounds, without
// a conversion that has no defined result.
TEST(ReadToolCall, RefusesHugeFloats) {
  for (std::string_view number : {"1e300", "-1e300", "1e999", "9223372036854775808.0",
                                  "18446744073709551616", "-9223372036854775809"}) {
    SCOPED_TRACE(number);
    const auto message = refusal(params_of(
        std::string(R"({"name":"query","arguments":{"connection":"c","sql":"s","max_rows":)") +
        std::string(number) + "}}"));
    EXPECT_NE(message.find("\"max_rows\" must be between 1 and 1000"), std::string::npos)
        << message;
  }
}

TEST(ReadToolCall, RefusesAStatementOverTheLimit) {
  const auto message =
      refusal(call("query", {{"connection", "c"}, {"sql", std::string(kMaxSqlBytes + 1, 'x')}}));
  EXPECT_NE(message.find("\"sql\" is longer than"), std::string::npos) << message;
}

TEST(ReadToolCall, ReadsAKubernetesPatch) {
  auto merge = accepted(params_of(
      R"({"name":"kubernetes","arguments":{"connection":"k","method":"PATCH","path":"/apis/apps/v1/namespaces/a/deployments/w","body":{"spec":{"replicas":2}}}})"));
  const auto* request = std::get_if<KubernetesCall>(&merge);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->content_type, "application/merge-patch+json");
  EXPECT_EQ(request->body, R"({"spec":{"replicas":2}})");
  // A JSON patch is an array: the schema's body object holds it, the request sends it bare.
  auto json_patch = accepted(params_of(
      R"({"name":"kubernetes","arguments":{"connection":"k","method":"PATCH","path":"/api/v1/namespaces/a/pods/p","patch_type":"json","body":{"patch":[{"op":"remove","path":"/metadata/labels/x"}]}}})"));
  request = std::get_if<KubernetesCall>(&json_patch);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->content_type, "application/json-patch+json");
  EXPECT_EQ(request->body, R"([{"op":"remove","path":"/metadata/labels/x"}])");
  auto get = accepted(params_of(
      R"({"name":"kubernetes","arguments":{"connection":"k","method":"GET","path":"/api/v1/pods?limit=5"}})"));
  request = std::get_if<KubernetesCall>(&get);
  ASSERT_NE(request, nullptr);
  EXPECT_FALSE(request->body.has_value());
  EXPECT_EQ(request->path, "/api/v1/pods?limit=5");
}

TEST(ReadToolCall, ReadsAnExecCallWithItsDefaults) {
  auto tool =
      accepted(params_of(R"({"name":"exec","arguments":{"connection":"web","command":"ls -l"}})"));
  const auto* exec = std::get_if<ExecCall>(&tool);
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(exec->command, "ls -l");
  EXPECT_EQ(exec->wait.count(), 0);
  EXPECT_EQ(exec->timeout, kDefaultRunTimeout);
}

TEST(ReadToolCall, ReadsAReviewId) {
  for (std::string_view id : {"r-abc", "r-7f3a9c", "r-A-1", "r--"}) {
    SCOPED_TRACE(id);
    auto tool = accepted(call("review_status", {{"review", id}}));
    auto* status = std::get_if<ReviewStatusCall>(&tool);
    ASSERT_NE(status, nullptr);
    EXPECT_EQ(status->review, id);
  }
}

}  // namespace
}  // namespace portcullis::proto::mcp
