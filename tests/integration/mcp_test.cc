// The MCP endpoint end to end: a real gateway and PostgreSQL, driven over raw HTTP (the
// transport's rules and JSON-RPC errors, and the read-only bypasses MCP database servers are
// known for) and by the official TypeScript SDK's client (tests/mcp_client): initialize, the
// tools, a masked query, a held statement approved through the REST API and run once, and a
// revocation ending the agent's session.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "api_call.h"
#include "gateway_fixture.h"
#include "mcp_calls.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace portcullis::testing {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr const char* kMcpAccess =
    "access:\n"
    "  - name: agents-read\n"
    "    who: { groups: [agents] }\n"
    "    connections: [app-db]\n"
    "    credentials: readonly\n"
    "    allow: [read]\n"
    "    masking: default\n"
    "  - name: writers\n"
    "    who: { groups: [writers] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read, write]\n"
    "    masking: default\n"
    "masking:\n"
    "  profiles:\n"
    "    default:\n"
    "      detectors: [email, credit_card, us_ssn]\n"
    "      columns:\n"
    "        - { match: \"*.password*\", action: redact }\n";

constexpr const char* kMcpGuardrails =
    "guardrails:\n"
    "  - name: unbounded-deletes-need-approval\n"
    "    when: { statements: [delete, update], where: absent }\n"
    "    action: review\n"
    "    reviewers: { groups: [leads] }\n"
    "    wait: 60s\n";

class McpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    GatewayOptions options;
    options.http_listener = true;
    options.access_section = kMcpAccess;
    options.guardrails_section = kMcpGuardrails;
    options.api_section =
        "api:\n  admin_groups: [platform-admins]\n  auditor_groups: [security]\n"
        "  allowed_origins: [\"https://console.example.com\"]\n";
    gateway_ = new GatewayProcess(*postgres_, options);
    agent_ = new std::string(gateway_->token_for("claude", "agents"));
    writer_ = new std::string(gateway_->token_for("wendy", "writers"));
    lead_ = new std::string(gateway_->token_for("lee", "leads"));
    admin_ = new std::string(gateway_->token_for("ada", "platform-admins"));
  }
  static void TearDownTestSuite() {
    delete admin_;
    delete lead_;
    delete writer_;
    delete agent_;
    delete gateway_;
    delete postgres_;
  }

  void SetUp() override {
    auto setup = postgres_->psql_superuser(
        "drop table if exists customers, items;"
        "create table customers (id int primary key, name text, email text, card text, "
        "ssn text, password_hash text);"
        "insert into customers values "
        "(1, 'Ada Lovelace', 'ada@example.com', '4111 1111 1111 1111', '123-45-6789', 'x9$s'),"
        "(2, 'Alan Turing', 'alan@example.org', '5500-0000-0000-0004', '234-56-7890', 'h2');"
        "create table items (id int primary key, name text);"
        "insert into items select g, 'item ' || g from generate_series(1, 10) g;"
        "grant select on customers, items to " +
        postgres_->scram_role().name + ";" + "alter table customers owner to " +
        postgres_->scram_role().name + ";" + "alter table items owner to " +
        postgres_->scram_role().name + ";");
    ASSERT_TRUE(setup.ok()) << setup.describe();
  }

  static ApiResponse post(const std::string& token, const std::string& body,
                          std::map<std::string, std::string> headers = {}) {
    return mcp_post(gateway_->http_port(), token, body, std::move(headers));
  }
  static std::string initialize(const std::string& token) {
    return mcp_initialize(gateway_->http_port(), token);
  }
  static ApiResponse rpc(const std::string& token, const std::string& session,
                         const std::string& method, json::object params) {
    return mcp_request(gateway_->http_port(), token, session, method, std::move(params));
  }
  static json::object query(const std::string& token, const std::string& session,
                            const std::string& sql, json::object extra = {}) {
    json::object arguments{{"connection", "app-db"}, {"sql", sql}};
    for (const auto& [key, value] : extra) arguments[key] = value;
    return mcp_tool_call(gateway_->http_port(), token, session, "query", std::move(arguments));
  }

  static int64_t items() {
    auto count = postgres_->psql_superuser("select count(*) from items");
    EXPECT_TRUE(count.ok()) << count.describe();
    return std::stoll(count.stdout_text);
  }

  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static std::string* agent_;
  static std::string* writer_;
  static std::string* lead_;
  static std::string* admin_;
};

PostgresServer* McpTest::postgres_ = nullptr;
GatewayProcess* McpTest::gateway_ = nullptr;
std::string* McpTest::agent_ = nullptr;
std::string* McpTest::writer_ = nullptr;
std::string* McpTest::lead_ = nullptr;
std::string* McpTest::admin_ = nullptr;

int error_code(const ApiResponse& answer) {
  if (!answer.body.is_object() || !answer.body.as_object().contains("error")) return 0;
  return static_cast<int>(answer.body.at("error").at("code").as_int64());
}

TEST_F(McpTest, TransportRulesAndJsonRpcErrors) {
  // No credential: 401 with the scheme to use.
  auto anonymous = post("", R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  EXPECT_EQ(anonymous.status, 401u);
  EXPECT_NE(anonymous.headers["www-authenticate"].find("Bearer"), std::string::npos);

  // Not JSON, a batch, no jsonrpc member: HTTP 400 with JSON-RPC's codes and no id.
  auto garbage = post(*agent_, "{not json");
  EXPECT_EQ(garbage.status, 400u);
  EXPECT_EQ(error_code(garbage), -32700) << garbage.text;
  EXPECT_TRUE(garbage.body.at("id").is_null());
  auto batch = post(*agent_, R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])");
  EXPECT_EQ(batch.status, 400u);
  EXPECT_EQ(error_code(batch), -32600) << batch.text;
  auto no_version = post(*agent_, R"({"id":1,"method":"ping"})");
  EXPECT_EQ(error_code(no_version), -32600) << no_version.text;
  // Only JSON bodies, only JSON answers.
  auto form = post(*agent_, R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                   {{"Content-Type", "text/plain"}});
  EXPECT_EQ(form.status, 415u) << form.text;
  auto html =
      post(*agent_, R"({"jsonrpc":"2.0","id":1,"method":"ping"})", {{"Accept", "text/html"}});
  EXPECT_EQ(html.status, 406u) << html.text;

  // A page of another site (DNS rebinding) is refused; a configured origin is not.
  auto rebinding = post(*agent_, R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                        {{"Origin", "http://evil.example"}});
  EXPECT_EQ(rebinding.status, 403u) << rebinding.text;

  // Methods before initialize need a session; an unknown one is gone (404).
  auto early = post(*agent_, R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
  EXPECT_EQ(early.status, 400u) << early.text;
  auto unknown = post(*agent_, R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
                      {{"Mcp-Session-Id", std::string(32, 'a')}});
  EXPECT_EQ(unknown.status, 404u) << unknown.text;

  const std::string session = initialize(*agent_);
  auto allowed = post(*agent_, R"({"jsonrpc":"2.0","id":"p","method":"ping"})",
                      {{"Mcp-Session-Id", session}, {"Origin", "https://console.example.com"}});
  EXPECT_EQ(allowed.status, 200u) << allowed.text;
  EXPECT_EQ(allowed.body.at("id").as_string(), "p");
  // Another subject cannot use the session, even with a valid credential of its own.
  auto stolen = rpc(*writer_, session, "tools/list", {});
  EXPECT_EQ(stolen.status, 404u) << stolen.text;
  auto version = post(*agent_, R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                      {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "1999-01-01"}});
  EXPECT_EQ(version.status, 400u) << version.text;
  // A revision the server speaks, but not the one this session negotiated.
  auto other = post(*agent_, R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                    {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "2025-03-26"}});
  EXPECT_EQ(other.status, 400u) << other.text;
  // Clients of 2025-03-26 send no version header at all.
  auto none =
      post(*agent_, R"({"jsonrpc":"2.0","id":1,"method":"ping"})", {{"Mcp-Session-Id", session}});
  EXPECT_EQ(none.status, 200u) << none.text;

  EXPECT_EQ(error_code(rpc(*agent_, session, "resources/list", {})), -32601);
  EXPECT_EQ(error_code(rpc(*agent_, session, "tools/call", {{"name", "drop_everything"}})), -32602);
  EXPECT_EQ(error_code(rpc(*agent_, session, "tools/call",
                           {{"name", "query"}, {"arguments", {{"connection", "app-db"}}}})),
            -32602);
  EXPECT_EQ(
      error_code(rpc(
          *agent_, session, "tools/call",
          {{"name", "query"},
           {"arguments", {{"connection", "app-db"}, {"sql", "select 1"}, {"max_rows", 5000}}}})),
      -32602);
  auto tools = rpc(*agent_, session, "tools/list", {});
  ASSERT_EQ(tools.status, 200u) << tools.text;
  std::vector<std::string> names;
  for (const auto& tool : tools.body.at("result").at("tools").as_array())
    names.emplace_back(tool.at("name").as_string());
  EXPECT_EQ(names, (std::vector<std::string>{"list_connections", "query", "exec", "kubernetes",
                                             "review_status"}));

  // GET streams are not offered; DELETE ends the session.
  auto get = call_api(gateway_->http_port(), http::verb::get, "/mcp", *agent_, {},
                      {{"Mcp-Session-Id", session}});
  EXPECT_EQ(get.status, 405u) << get.text;
  auto deleted = call_api(gateway_->http_port(), http::verb::delete_, "/mcp", *agent_, {},
                          {{"Mcp-Session-Id", session}});
  EXPECT_EQ(deleted.status, 200u) << deleted.text;
  EXPECT_EQ(rpc(*agent_, session, "tools/list", {}).status, 404u);
}

TEST_F(McpTest, ResultsAreMaskedAsForPsql) {
  const std::string session = initialize(*agent_);
  auto answer =
      query(*agent_, session,
            "select id, name, email, card, ssn, password_hash from customers order by id");
  ASSERT_FALSE(answer.at("isError").as_bool()) << json::serialize(answer);
  const auto& result = answer.at("structuredContent").at("results").at(0);
  EXPECT_EQ(result.at("command").as_string(), "SELECT 2");
  EXPECT_EQ(result.at("columns").at(0).at("type").as_string(), "integer");
  const auto& ada = result.at("rows").at(0).as_array();
  EXPECT_EQ(ada.at(0).as_int64(), 1);
  EXPECT_EQ(ada.at(1).as_string(), "Ada Lovelace");
  const std::string text = json::serialize(answer);
  for (const char* raw : {"ada@example.com", "4111 1111 1111 1111", "123-45-6789", "x9$s",
                          "alan@example.org", "5500-0000-0000-0004"})
    EXPECT_EQ(text.find(raw), std::string::npos) << raw << " leaked: " << text;
  // The same statement through psql under the same grant shows the same masked values.
  auto psql = gateway_->psql("claude", *agent_,
                             {"-c", "select email, password_hash from customers where id = 1"});
  ASSERT_TRUE(psql.ok()) << psql.describe();
  EXPECT_EQ(psql.stdout_text, fmt::format("{}|{}\n", std::string(ada.at(2).as_string()),
                                          std::string(ada.at(5).as_string())));

  // Rows beyond max_rows are counted, not sent.
  auto limited =
      query(*agent_, session, "select g from generate_series(1, 50) g", {{"max_rows", 3}});
  const auto& rows = limited.at("structuredContent").at("results").at(0);
  EXPECT_EQ(rows.at("rows").as_array().size(), 3u);
  EXPECT_EQ(rows.at("row_count").as_int64(), 50);
  EXPECT_TRUE(rows.at("truncated").as_bool());

  // Recorded as any statement, with the agent's address behind "mcp/".
  auto journal = gateway_->cli({"audit", "search", "--subject", "claude", "--json"});
  for (int i = 0;
       i < 100 && journal.stdout_text.find("generate_series(1, 50)") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    journal = gateway_->cli({"audit", "search", "--subject", "claude", "--json"});
  }
  EXPECT_NE(journal.stdout_text.find("\"client_addr\":\"mcp/127.0.0.1:"), std::string::npos)
      << journal.describe();
}

TEST_F(McpTest, ReadOnlyGrantStaysReadOnlyWhateverTheTextHides) {
  const std::string session = initialize(*agent_);
  // What MCP database servers with a "read-only" mode were walked past with, and more.
  const char* bypasses[] = {
      "COMMIT; DROP TABLE items",
      "commit; delete from items",
      "SET TRANSACTION READ WRITE; DELETE FROM items",
      "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; DELETE FROM items",
      "select set_config('default_transaction_read_only', 'off', false); delete from items",
      "select 1; delete from items where id > 0",
      "with gone as (delete from items returning *) select * from gone",
      "do $$ begin delete from items; end $$",
      "/* select */ delete from items where id = 1",
      "insert into items values (99, 'x')",
  };
  for (const char* sql : bypasses) {
    auto answer = query(*agent_, session, sql);
    EXPECT_TRUE(answer.at("isError").as_bool()) << sql << ": " << json::serialize(answer);
  }
  EXPECT_EQ(items(), 10);
  // The session is still usable and still read-only.
  auto read = query(*agent_, session, "select count(*) from items");
  ASSERT_FALSE(read.at("isError").as_bool()) << json::serialize(read);
  EXPECT_EQ(read.at("structuredContent").at("results").at(0).at("rows").at(0).at(0).as_int64(), 10);
  auto show = query(*agent_, session, "show transaction_read_only");
  EXPECT_EQ(show.at("structuredContent").at("results").at(0).at("rows").at(0).at(0).as_string(),
            "on");
}

// A call may wait for the decision: approved within its wait, the statement runs in that very
// call; rejected, the call says so with the reviewer's comment. Nothing runs before approval.
TEST_F(McpTest, HeldCallWaitsForTheDecision) {
  const std::string session = initialize(*writer_);
  auto approved = std::async(std::launch::async, [&] {
    return query(*writer_, session, "update items set name = 'renamed'", {{"wait", 30}});
  });
  const auto first = pending_review_id(gateway_->http_port(), *lead_, "wendy", "set name");
  ASSERT_FALSE(first.empty());
  auto unchanged = postgres_->psql_superuser("select count(*) from items where name = 'renamed'");
  EXPECT_EQ(unchanged.stdout_text, "0\n");
  ASSERT_EQ(call_api(gateway_->http_port(), http::verb::post,
                     "/api/v1/reviews/" + first + "/approve", *lead_, "{}")
                .status,
            200u);
  const auto ran = approved.get();
  const auto& done = ran.at("structuredContent");
  EXPECT_EQ(done.at("status").as_string(), "ok") << json::serialize(ran);
  EXPECT_EQ(done.at("review").as_string(), first);
  EXPECT_EQ(done.at("results").at(0).at("command").as_string(), "UPDATE 10");

  auto rejected = std::async(std::launch::async, [&] {
    return query(*writer_, session, "delete from items", {{"wait", 30}});
  });
  const auto second = pending_review_id(gateway_->http_port(), *lead_, "wendy", "delete from");
  ASSERT_FALSE(second.empty());
  ASSERT_EQ(
      call_api(gateway_->http_port(), http::verb::post, "/api/v1/reviews/" + second + "/reject",
               *lead_, R"({"comment":"not on a Friday"})")
          .status,
      200u);
  const auto refused = rejected.get();
  EXPECT_TRUE(refused.at("isError").as_bool());
  EXPECT_EQ(refused.at("structuredContent").at("status").as_string(), "rejected");
  EXPECT_NE(json::serialize(refused).find("not on a Friday"), std::string::npos)
      << json::serialize(refused);
  EXPECT_EQ(items(), 10);
}

// The official SDK's client through a whole agent's story: steps run by tests/mcp_client, the
// test approving and revoking in between (the client waits for files the test writes).
// A statement past its timeout is cancelled, as psql's Ctrl-C cancels one; the session stays.
TEST_F(McpTest, AStatementPastItsTimeoutIsCancelled) {
  const std::string session = initialize(*agent_);
  const auto started = std::chrono::steady_clock::now();
  auto slow = query(*agent_, session, "select pg_sleep(30)", {{"timeout", 1}});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_TRUE(slow.at("isError").as_bool()) << json::serialize(slow);
  const auto& out = slow.at("structuredContent");
  EXPECT_TRUE(out.at("timed_out").as_bool()) << json::serialize(slow);
  EXPECT_EQ(out.at("error").at("code").as_string(), "57014") << json::serialize(slow);
  auto next = query(*agent_, session, "select 1");
  EXPECT_FALSE(next.at("isError").as_bool()) << json::serialize(next);
}

// The front end ends a session idle for limits.idle_timeout; the agent's next call finds a
// fresh one rather than the end of its MCP session (which a kill or a revocation means).
TEST_F(McpTest, AnIdleConnectionIsReplacedNotEnded) {
  GatewayOptions options;
  options.http_listener = true;
  options.access_section = kMcpAccess;
  options.limits_section = "limits:\n  idle_timeout: 2s\n";
  GatewayProcess gateway(*postgres_, options);
  const auto token = gateway.token_for("claude", "agents");
  const auto session = mcp_initialize(gateway.http_port(), token);
  auto first = mcp_tool_call(gateway.http_port(), token, session, "query",
                             {{"connection", "app-db"}, {"sql", "select 1"}});
  ASSERT_FALSE(first.at("isError").as_bool()) << json::serialize(first);
  std::this_thread::sleep_for(2500ms);
  auto second = mcp_tool_call(gateway.http_port(), token, session, "query",
                              {{"connection", "app-db"}, {"sql", "select 2"}});
  EXPECT_FALSE(second.at("isError").as_bool()) << json::serialize(second);
}

// The SDK client's directory, or empty when its packages are not installed.
std::filesystem::path sdk_client_dir() {
  const auto dir = std::filesystem::path(PORTCULLIS_SOURCE_DIR) / "tests/mcp_client";
  if (!std::filesystem::exists(dir / "node_modules/@modelcontextprotocol/sdk")) return {};
  return dir;
}

// The SDK client's output lines by their steps' tags.
std::map<std::string, json::object> sdk_lines_by_tag(const std::string& output) {
  std::map<std::string, json::object> by_tag;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    auto parsed = json::parse(line).as_object();
    if (parsed.contains("tag")) by_tag[std::string(parsed.at("tag").as_string())] = parsed;
  }
  return by_tag;
}

// Through the SDK, under a read-only grant: the bypasses are refused as tool errors the model
// reads, and protocol errors come back as JSON-RPC errors the SDK raises.
TEST_F(McpTest, SdkClientReadOnlyBypassesAndProtocolErrors) {
  const auto client_dir = sdk_client_dir();
  if (client_dir.empty())
    GTEST_SKIP() << "the MCP SDK is not installed: run scripts/setup.sh (npm ci in "
                    "tests/mcp_client)";
  auto call = [](const char* tag, const char* tool, json::object arguments) {
    return json::object{
        {"op", "call"}, {"tag", tag}, {"name", tool}, {"arguments", std::move(arguments)}};
  };
  json::array steps{
      json::object{{"op", "connect"}},
      call("commit", "query", {{"connection", "app-db"}, {"sql", "COMMIT; DROP TABLE items"}}),
      call("multi", "query", {{"connection", "app-db"}, {"sql", "select 1; delete from items"}}),
      call("read", "query", {{"connection", "app-db"}, {"sql", "select count(*) from items"}}),
      call("unknown-tool", "drop_database", {}),
      call("bad-arguments", "query",
           {{"connection", "app-db"}, {"sql", "select 1"}, {"max_rows", "ten"}}),
      call("missing-argument", "query", {{"connection", "app-db"}}),
  };
  ChildOptions options;
  options.argv = {"node",     (client_dir / "mcp_client.mjs").string(),
                  "--url",    fmt::format("http://127.0.0.1:{}/mcp", gateway_->http_port()),
                  "--header", "Authorization: Bearer " + *agent_};
  options.stdin_data = json::serialize(steps);
  ChildProcess client(std::move(options));
  ASSERT_TRUE(client.wait_for_output("{\"op\":\"done\"}", 60s))
      << client.stdout_text() << client.stderr_text();
  auto by_tag = sdk_lines_by_tag(client.stdout_text());
  for (const char* tag : {"commit", "multi"}) {
    ASSERT_TRUE(by_tag[tag].at("ok").as_bool()) << json::serialize(by_tag[tag]);
    const auto& result = by_tag[tag].at("result");
    EXPECT_TRUE(result.at("isError").as_bool()) << json::serialize(result);
    EXPECT_NE(json::serialize(result).find("blocked by"), std::string::npos)
        << json::serialize(result);
  }
  EXPECT_EQ(items(), 10);
  EXPECT_FALSE(by_tag["read"].at("result").at("isError").as_bool());
  for (const char* tag : {"unknown-tool", "bad-arguments", "missing-argument"}) {
    EXPECT_FALSE(by_tag[tag].at("ok").as_bool()) << json::serialize(by_tag[tag]);
    EXPECT_EQ(by_tag[tag].at("error").at("code").as_int64(), -32602)
        << json::serialize(by_tag[tag]);
  }
}

TEST_F(McpTest, SdkClientHeldStatementApprovedThenRevoked) {
  const auto client_dir = sdk_client_dir();
  if (client_dir.empty())
    GTEST_SKIP() << "the MCP SDK is not installed: run scripts/setup.sh (npm ci in "
                    "tests/mcp_client)";
  TempDir signals("portcullis-mcp-");
  const auto approved = signals.path() / "approved";
  const auto revoked = signals.path() / "revoked";
  json::array steps{
      json::object{{"op", "connect"}},
      json::object{{"op", "list_tools"}},
      json::object{{"op", "call"}, {"tag", "connections"}, {"name", "list_connections"}},
      json::object{
          {"op", "call"},
          {"tag", "masked"},
          {"name", "query"},
          {"arguments",
           {{"connection", "app-db"}, {"sql", "select email from customers order by id"}}}},
      json::object{{"op", "call"},
                   {"tag", "held"},
                   {"name", "query"},
                   {"arguments", {{"connection", "app-db"}, {"sql", "delete from items"}}}},
      json::object{{"op", "wait_file"}, {"path", approved.string()}},
      json::object{{"op", "call"},
                   {"tag", "status"},
                   {"name", "review_status"},
                   {"arguments_file", approved.string()}},
      json::object{{"op", "call"},
                   {"tag", "released"},
                   {"name", "query"},
                   {"arguments", {{"connection", "app-db"}, {"sql", "delete from items"}}}},
      json::object{{"op", "wait_file"}, {"path", revoked.string()}},
      json::object{{"op", "call"},
                   {"tag", "after-revoke"},
                   {"name", "query"},
                   {"arguments", {{"connection", "app-db"}, {"sql", "select 1"}}}},
      json::object{{"op", "call"},
                   {"tag", "gone"},
                   {"name", "query"},
                   {"arguments", {{"connection", "app-db"}, {"sql", "select 1"}}}},
  };
  ChildOptions options;
  options.argv = {"node",     (client_dir / "mcp_client.mjs").string(),
                  "--url",    fmt::format("http://127.0.0.1:{}/mcp", gateway_->http_port()),
                  "--header", "Authorization: Bearer " + *writer_};
  options.stdin_data = json::serialize(steps);
  ChildProcess client(std::move(options));

  ASSERT_TRUE(client.wait_for_output("\"tag\":\"held\"", 60s))
      << client.stdout_text() << client.stderr_text();
  std::string review;
  {
    std::istringstream lines(client.stdout_text());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"tag\":\"held\"") == std::string::npos) continue;
      const auto held = json::parse(line);
      const auto& structured = held.at("result").at("structuredContent");
      EXPECT_EQ(structured.at("status").as_string(), "pending_review") << line;
      review = std::string(structured.at("review").as_string());
    }
  }
  ASSERT_FALSE(review.empty()) << client.stdout_text();
  EXPECT_EQ(items(), 10);  // held: nothing ran
  auto vote =
      call_api(gateway_->http_port(), http::verb::post, "/api/v1/reviews/" + review + "/approve",
               *lead_, R"({"comment":"agent cleanup agreed"})");
  ASSERT_EQ(vote.status, 200u) << vote.text;
  // The review_status step reads its arguments from this file.
  std::ofstream(approved) << json::serialize(json::object{{"review", review}});

  ASSERT_TRUE(client.wait_for_output("\"tag\":\"released\"", 60s)) << client.stdout_text();
  EXPECT_EQ(items(), 0);
  auto revocation = call_api(gateway_->http_port(), http::verb::post, "/api/v1/revocations",
                             *admin_, R"({"subject": "wendy", "reason": "agent misbehaved"})");
  ASSERT_EQ(revocation.status, 200u) << revocation.text;
  // Revocation ends the gateway session the agent's MCP session holds, within a second.
  bool ended = false;
  for (int i = 0; i < 100 && !ended; ++i) {
    auto live = call_api(gateway_->http_port(), http::verb::get, "/api/v1/sessions", *admin_);
    ended = live.status == 200u && live.text.find("\"wendy\"") == std::string::npos;
    if (!ended) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(ended)
      << call_api(gateway_->http_port(), http::verb::get, "/api/v1/sessions", *admin_).text
      << revocation.text;
  std::ofstream(revoked) << "1";
  ASSERT_TRUE(client.wait_for_output("{\"op\":\"done\"}", 60s))
      << client.stdout_text() << client.stderr_text();
  ASSERT_TRUE(client.wait(30s).success());

  auto by_tag = sdk_lines_by_tag(client.stdout_text());
  std::vector<json::object> lines;
  std::istringstream output(client.stdout_text());
  for (std::string line; std::getline(output, line);)
    lines.push_back(json::parse(line).as_object());
  ASSERT_GE(lines.size(), 3u);
  EXPECT_TRUE(lines[0].at("ok").as_bool()) << json::serialize(lines[0]);
  EXPECT_EQ(lines[0].at("serverVersion").at("name").as_string(), "portcullis");
  EXPECT_EQ(lines[1].at("tools").as_array().size(), 5u);
  const auto connections = json::serialize(by_tag["connections"]);
  EXPECT_NE(connections.find("\"name\":\"app-db\""), std::string::npos) << connections;
  const auto masked = json::serialize(by_tag["masked"]);
  EXPECT_EQ(masked.find("ada@example.com"), std::string::npos) << masked;
  EXPECT_NE(masked.find("\"status\":\"ok\""), std::string::npos) << masked;
  const auto& status = by_tag["status"].at("result").at("structuredContent");
  EXPECT_EQ(status.at("status").as_string(), "approved") << json::serialize(status);
  EXPECT_EQ(status.at("decided_by").as_string(), "lee");
  EXPECT_EQ(status.at("comment").as_string(), "agent cleanup agreed");
  const auto& released = by_tag["released"].at("result").at("structuredContent");
  EXPECT_EQ(released.at("status").as_string(), "ok") << json::serialize(released);
  EXPECT_EQ(released.at("results").at(0).at("command").as_string(), "DELETE 10");
  // The revocation ended the gateway session under the agent's MCP session: the call made
  // after it fails, and the MCP session is gone (404) for the next.
  // The revoked credential is refused from then on (401), the MCP session with it.
  for (const char* tag : {"after-revoke", "gone"}) {
    EXPECT_FALSE(by_tag[tag].at("ok").as_bool()) << json::serialize(by_tag[tag]);
    EXPECT_EQ(by_tag[tag].at("error").at("code").as_int64(), 401) << json::serialize(by_tag[tag]);
  }
}

}  // namespace
}  // namespace portcullis::testing
