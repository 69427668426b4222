// The MCP query tool on a MariaDB connection, end to end: the statement goes through the
// gateway's MySQL front end inside the process, so it is masked, decided (MySQL's own
// evasions included), held for review and journaled exactly as the mariadb client's.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "api_call.h"
#include "mcp_calls.h"
#include "mysql_gateway.h"
#include "support/mariadb_server.h"

namespace portcullis::testing {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kMcpMysqlAccess =
    "access:\n"
    "  - name: agents\n"
    "    who: { groups: [agents] }\n"
    "    connections: [shop]\n"
    "    credentials: readonly\n"
    "    allow: [read]\n"
    "    masking: pii\n"
    "  - name: writers\n"
    "    who: { groups: [writers] }\n"
    "    connections: [shop]\n"
    "    credentials: default\n"
    "    allow: [read, write]\n";

constexpr const char* kMcpMysqlGuardrails =
    "guardrails:\n"
    "  - name: unbounded-writes-need-approval\n"
    "    when: { statements: [delete, update], where: absent }\n"
    "    action: review\n"
    "    reviewers: { groups: [leads] }\n"
    "    wait: 60s\n";

class McpMysqlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mariadb_ = new MariadbServer();
    MysqlGatewayOptions options;
    options.http_listener = true;
    options.access_section = kMcpMysqlAccess;
    options.guardrails_section = kMcpMysqlGuardrails;
    options.masking_section = kMysqlDefaultMasking;
    options.extra_sections = "api:\n  admin_groups: [platform-admins]\n";
    gateway_ = new MysqlGateway(*mariadb_, options);
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
    delete mariadb_;
  }

  void SetUp() override {
    auto setup = mariadb_->mariadb_root(
        "DROP TABLE IF EXISTS customers;"
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(80),"
        " ssn VARCHAR(11), card BIGINT);"
        "INSERT INTO customers VALUES (1, 'Alice', 'alice@example.com', '123-45-6789',"
        " 4111111111111111), (2, 'Bob', 'bob@example.org', '987-65-4320', NULL);");
    ASSERT_TRUE(setup.ok()) << setup.describe();
  }

  static json::object query(const std::string& token, const std::string& session,
                            const std::string& sql, json::object extra = {}) {
    json::object arguments{{"connection", "shop"}, {"sql", sql}};
    for (const auto& [key, value] : extra) arguments[key] = value;
    return mcp_tool_call(gateway_->http_port(), token, session, "query", std::move(arguments));
  }

  static std::string customers() {
    return mariadb_->mariadb_root("SELECT COUNT(*) FROM customers").stdout_text;
  }

  static MariadbServer* mariadb_;
  static MysqlGateway* gateway_;
  static std::string* agent_;
  static std::string* writer_;
  static std::string* lead_;
  static std::string* admin_;
};

MariadbServer* McpMysqlTest::mariadb_ = nullptr;
MysqlGateway* McpMysqlTest::gateway_ = nullptr;
std::string* McpMysqlTest::agent_ = nullptr;
std::string* McpMysqlTest::writer_ = nullptr;
std::string* McpMysqlTest::lead_ = nullptr;
std::string* McpMysqlTest::admin_ = nullptr;

TEST_F(McpMysqlTest, MaskedRowsAsTheMariadbClientSeesThem) {
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  auto listed = mcp_tool_call(gateway_->http_port(), *agent_, session, "list_connections", {});
  EXPECT_NE(json::serialize(listed).find(R"("kind":"mysql")"), std::string::npos)
      << json::serialize(listed);
  auto answer =
      query(*agent_, session, "SELECT id, name, email, ssn, card FROM customers ORDER BY id");
  ASSERT_FALSE(answer.at("isError").as_bool()) << json::serialize(answer);
  const auto& result = answer.at("structuredContent").at("results").at(0);
  EXPECT_EQ(result.at("columns").at(0).at("type").as_string(), "int");
  const auto& alice = result.at("rows").at(0).as_array();
  EXPECT_EQ(alice.at(0).as_int64(), 1);
  EXPECT_EQ(alice.at(1).as_string(), "Alice");
  const std::string text = json::serialize(answer);
  for (const char* raw :
       {"alice@example.com", "123-45-6789", "4111111111111111", "bob@example.org"})
    EXPECT_EQ(text.find(raw), std::string::npos) << raw << " leaked: " << text;
  // The same row through the real mariadb client under the same grant.
  auto client =
      gateway_->mariadb("claude", *agent_, "SELECT email, ssn FROM customers WHERE id = 1");
  ASSERT_TRUE(client.ok()) << client.describe();
  EXPECT_EQ(client.stdout_text, fmt::format("{}\t{}\n", std::string(alice.at(2).as_string()),
                                            std::string(alice.at(3).as_string())));
  // Several statements, several results.
  auto two = query(*agent_, session, "SELECT 1; SELECT 'x', 2");
  ASSERT_FALSE(two.at("isError").as_bool()) << json::serialize(two);
  EXPECT_EQ(two.at("structuredContent").at("results").as_array().size(), 2u);
  // Recorded by the MySQL front end, behind "mcp/".
  auto journal = gateway_->cli({"audit", "search", "--subject", "claude", "--json"});
  for (int i = 0; i < 100 && journal.stdout_text.find("SELECT 'x', 2") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    journal = gateway_->cli({"audit", "search", "--subject", "claude", "--json"});
  }
  EXPECT_NE(journal.stdout_text.find(R"("protocol":"mysql")"), std::string::npos);
  EXPECT_NE(journal.stdout_text.find(R"("client_addr":"mcp/127.0.0.1:)"), std::string::npos)
      << journal.describe();
}

TEST_F(McpMysqlTest, ReadOnlyGrantStaysReadOnly) {
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  const char* bypasses[] = {
      "COMMIT; DELETE FROM customers",
      "SET SESSION TRANSACTION READ WRITE; DELETE FROM customers",
      "/*!50000 DELETE FROM customers */",
      "SELECT 1 # comment\n; DELETE FROM customers",
      "PREPARE s FROM 'DELETE FROM customers'; EXECUTE s",
      "DELETE FROM `customers` WHERE id > 0",
      "INSERT INTO customers (id) VALUES (9)",
  };
  for (const char* sql : bypasses) {
    auto answer = query(*agent_, session, sql);
    EXPECT_TRUE(answer.at("isError").as_bool()) << sql << ": " << json::serialize(answer);
  }
  EXPECT_EQ(customers(), "2\n");
}

TEST_F(McpMysqlTest, HeldStatementPendingThenApprovedRunsOnce) {
  const auto session = mcp_initialize(gateway_->http_port(), *writer_);
  auto held = query(*writer_, session, "DELETE FROM customers");
  ASSERT_TRUE(held.contains("structuredContent")) << json::serialize(held);
  const auto& pending = held.at("structuredContent");
  ASSERT_EQ(pending.at("status").as_string(), "pending_review") << json::serialize(held);
  EXPECT_FALSE(held.at("isError").as_bool());
  const std::string review(pending.at("review").as_string());
  EXPECT_EQ(customers(), "2\n");
  ASSERT_EQ(call_api(gateway_->http_port(), http::verb::post,
                     "/api/v1/reviews/" + review + "/approve", *lead_, "{}")
                .status,
            200u);
  auto ran = query(*writer_, session, "DELETE FROM customers");
  ASSERT_FALSE(ran.at("isError").as_bool()) << json::serialize(ran);
  const auto& results = ran.at("structuredContent").as_object();
  ASSERT_TRUE(results.contains("results"))
      << json::serialize(ran) << gateway_->process().stderr_text();
  EXPECT_EQ(results.at("results").at(0).at("affected_rows").as_int64(), 2) << json::serialize(ran);
  EXPECT_EQ(customers(), "0\n");
  // Approved once, run once: the same text is held again.
  auto again = query(*writer_, session, "DELETE FROM customers");
  EXPECT_EQ(again.at("structuredContent").at("status").as_string(), "pending_review");
}

TEST_F(McpMysqlTest, AStatementPastItsTimeoutIsEnded) {
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  const auto started = std::chrono::steady_clock::now();
  auto slow = query(*agent_, session, "SELECT SLEEP(30)", {{"timeout", 1}});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_TRUE(slow.at("isError").as_bool()) << json::serialize(slow);
  EXPECT_TRUE(slow.at("structuredContent").at("timed_out").as_bool()) << json::serialize(slow);
  // The next call opens a connection of its own.
  auto next = query(*agent_, session, "SELECT 1");
  EXPECT_FALSE(next.at("isError").as_bool()) << json::serialize(next);
}

TEST_F(McpMysqlTest, KillEndsTheAgentsSession) {
  // A subject of its own: the other tests' sessions stay open.
  const auto agent = gateway_->token_for("kim", "agents");
  const auto session = mcp_initialize(gateway_->http_port(), agent);
  ASSERT_FALSE(query(agent, session, "SELECT 1").at("isError").as_bool());
  auto live = call_api(gateway_->http_port(), http::verb::get, "/api/v1/sessions", *admin_);
  ASSERT_EQ(live.status, 200u) << live.text;
  std::string id;
  for (const auto& entry : live.body.at("sessions").as_array())
    if (entry.at("subject").as_string() == "kim") id = std::string(entry.at("id").as_string());
  ASSERT_FALSE(id.empty()) << live.text;
  ASSERT_EQ(call_api(gateway_->http_port(), http::verb::post, "/api/v1/sessions/" + id + "/kill",
                     *admin_, R"({"reason":"agent looping"})")
                .status,
            200u);
  // The kill is carried out on the session's own thread: once it has left the live list,
  // the agent's next call finds it gone.
  for (int i = 0; i < 200; ++i) {
    auto listed = call_api(gateway_->http_port(), http::verb::get, "/api/v1/sessions", *admin_);
    if (listed.text.find(id) == std::string::npos) break;
    std::this_thread::sleep_for(10ms);
  }
  auto after = query(agent, session, "SELECT 1");
  EXPECT_TRUE(after.at("isError").as_bool()) << json::serialize(after);
  EXPECT_EQ(after.at("structuredContent").at("status").as_string(), "session_ended")
      << json::serialize(after);
  // The MCP session ended with it.
  EXPECT_EQ(mcp_request(gateway_->http_port(), agent, session, "tools/list", {}).status, 404u);
}

}  // namespace
}  // namespace portcullis::testing
