// The MCP endpoint's exec tool end to end: raw JSON-RPC to /mcp, through the gateway's own
// SSH front end, to a real OpenSSH sshd whose command recorder shows what reached the host.
// The agent's credential (a gateway token longer than OpenSSH's password limit, or an API
// key) logs it in; commands are decided, masked, held for review and journaled as `ssh`'s are.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <future>
#include <thread>

#include "api_call.h"
#include "contains.h"
#include "mcp_calls.h"
#include "ssh_gateway.h"
#include "support/sshd_server.h"

namespace portcullis::testing {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;

class McpSshTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sshd_ = new SshdServer();
    SshGatewayOptions options;
    options.access_section =
        "access:\n"
        "  - name: agents\n"
        "    who: { groups: [agents] }\n"
        "    connections: [web]\n"
        "    allow: [exec]\n"
        "    masking: pii\n";
    options.guardrails_section =
        "guardrails:\n"
        "  - name: no-rm\n"
        "    when: { programs: [rm] }\n"
        "    action: deny\n"
        "    message: removing files is not allowed here\n"
        "  - name: mkdir-needs-approval\n"
        "    when: { programs: [mkdir] }\n"
        "    action: review\n"
        "    reviewers: { groups: [leads] }\n"
        "    wait: 60s\n";
    options.extra_sections = "api:\n  admin_groups: [platform-admins]\n";
    gateway_ = new SshGateway(*sshd_, options);
    lead_ = new std::string(gateway_->token_for("lee", "leads"));
    admin_ = new std::string(gateway_->token_for("ada", "platform-admins"));
    // Groups enough to take the token past OpenSSH's 1023-byte password limit: libssh's
    // client has none.
    std::vector<std::string> issue = {"token", "issue", "--subject", "claude", "--group", "agents"};
    for (int i = 0; i < 40; ++i) {
      issue.push_back("--group");
      issue.push_back(fmt::format("research-team-{:02}-with-a-long-name", i));
    }
    auto issued = gateway_->cli(issue);
    EXPECT_TRUE(issued.ok()) << issued.describe();
    std::string token = issued.stdout_text;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    agent_ = new std::string(std::move(token));
  }
  static void TearDownTestSuite() {
    delete agent_;
    delete admin_;
    delete lead_;
    delete gateway_;
    delete sshd_;
  }

  static json::object exec(const std::string& token, const std::string& session,
                           const std::string& command, json::object extra = {}) {
    json::object arguments{{"connection", "web"}, {"command", command}};
    for (const auto& [key, value] : extra) arguments[key] = value;
    return mcp_tool_call(gateway_->http_port(), token, session, "exec", std::move(arguments));
  }

  static const json::object& structured(const json::object& result) {
    static const json::object none;
    if (!result.contains("structuredContent")) return none;
    return result.at("structuredContent").as_object();
  }

  // The journal's statements once one holds `awaited`.
  static std::string journal(const std::string& awaited) { return gateway_->journal(awaited); }

  static SshdServer* sshd_;
  static SshGateway* gateway_;
  static std::string* agent_;
  static std::string* lead_;
  static std::string* admin_;
};

SshdServer* McpSshTest::sshd_ = nullptr;
SshGateway* McpSshTest::gateway_ = nullptr;
std::string* McpSshTest::agent_ = nullptr;
std::string* McpSshTest::lead_ = nullptr;
std::string* McpSshTest::admin_ = nullptr;

TEST_F(McpSshTest, ListsTheHostWithTheExecTool) {
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  auto listed = mcp_tool_call(gateway_->http_port(), *agent_, session, "list_connections", {});
  const auto& connections = structured(listed).at("connections").as_array();
  ASSERT_EQ(connections.size(), 1u) << json::serialize(listed);
  const auto& web = connections.at(0).as_object();
  EXPECT_EQ(web.at("name").as_string(), "web");
  EXPECT_EQ(web.at("kind").as_string(), "ssh");
  EXPECT_EQ(json::serialize(web.at("tools")), R"(["exec"])");
  EXPECT_TRUE(web.at("masked").as_bool());
}

TEST_F(McpSshTest, RunsACommandWithItsOutputAndExitStatus) {
  ASSERT_GT(agent_->size(), 1023u);  // more than OpenSSH would send as a password
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  const std::string command = "echo hello; echo err >&2; exit 3";
  auto ran = exec(*agent_, session, command);
  const auto& out = structured(ran);
  ASSERT_FALSE(out.empty()) << json::serialize(ran);
  EXPECT_FALSE(ran.at("isError").as_bool()) << json::serialize(ran);
  EXPECT_EQ(out.at("status").as_string(), "ok");
  EXPECT_EQ(out.at("stdout").as_string(), "hello\n");
  EXPECT_EQ(out.at("stderr").as_string(), "err\n");
  EXPECT_EQ(out.at("exit_status").as_int64(), 3);
  EXPECT_FALSE(out.at("truncated").as_bool());
  EXPECT_TRUE(contains(sshd_->received_commands(), command));

  // The same connection serves the next call.
  auto again = exec(*agent_, session, "echo again");
  EXPECT_EQ(structured(again).at("stdout").as_string(), "again\n") << json::serialize(again);

  // Journaled as any ssh command, with the agent's address behind "mcp/".
  const auto recorded = journal("exit status 3");
  EXPECT_NE(recorded.find("\"client_addr\":\"mcp/127.0.0.1:"), std::string::npos) << recorded;
  EXPECT_NE(recorded.find("\"subject\":\"claude\""), std::string::npos) << recorded;
  EXPECT_NE(recorded.find("echo hello; echo err"), std::string::npos) << recorded;
}

TEST_F(McpSshTest, OutputIsMasked) {
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  auto ran = exec(*agent_, session, "echo contact ada@example.com now");
  const auto& out = structured(ran);
  ASSERT_FALSE(out.empty()) << json::serialize(ran);
  const std::string text(out.at("stdout").as_string());
  EXPECT_EQ(text.find("ada@example.com"), std::string::npos) << text;
  EXPECT_TRUE(text.starts_with("contact ")) << text;
  EXPECT_EQ(out.at("exit_status").as_int64(), 0);
}

TEST_F(McpSshTest, ARefusedCommandIsAnErrorAndNeverRuns) {
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  const auto marker = sshd_->home_dir() / "refused-marker";
  const std::string command = "touch " + marker.string() + "; rm -f nothing";
  auto refused = exec(*agent_, session, command);
  const auto& out = structured(refused);
  ASSERT_FALSE(out.empty()) << json::serialize(refused);
  EXPECT_TRUE(refused.at("isError").as_bool()) << json::serialize(refused);
  EXPECT_EQ(out.at("status").as_string(), "refused");
  EXPECT_EQ(out.at("message").as_string(),
            "blocked by rule \"no-rm\": removing files is not allowed here")
      << json::serialize(out);
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_FALSE(contains(sshd_->received_commands(), command));

  // A refusal leaves the session usable.
  auto next = exec(*agent_, session, "echo still here");
  EXPECT_EQ(structured(next).at("stdout").as_string(), "still here\n") << json::serialize(next);
}

TEST_F(McpSshTest, AHeldCommandAnswersPendingReviewThenRunsOnceApproved) {
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  const auto made = sshd_->home_dir() / "held-dir";
  const std::string command = "mkdir " + made.string() + " && echo made";
  const auto started = std::chrono::steady_clock::now();
  auto held = exec(*agent_, session, command);
  // wait 0: answered at once, not after the rule's 60 s.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 15s);
  const auto& pending = structured(held);
  ASSERT_FALSE(pending.empty()) << json::serialize(held);
  EXPECT_FALSE(held.at("isError").as_bool()) << json::serialize(held);
  ASSERT_EQ(pending.at("status").as_string(), "pending_review") << json::serialize(held);
  EXPECT_EQ(pending.at("rule").as_string(), "mkdir-needs-approval");
  const std::string review(pending.at("review").as_string());
  EXPECT_FALSE(std::filesystem::exists(made));
  EXPECT_FALSE(contains(sshd_->received_commands(), command));

  auto vote = call_api(gateway_->http_port(), http::verb::post,
                       "/api/v1/reviews/" + review + "/approve", *lead_, R"({"comment":"ok"})");
  ASSERT_EQ(vote.status, 200u) << vote.text;

  auto ran = exec(*agent_, session, command);
  const auto& out = structured(ran);
  ASSERT_FALSE(out.empty()) << json::serialize(ran);
  EXPECT_EQ(out.at("status").as_string(), "ok") << json::serialize(ran);
  EXPECT_EQ(out.at("stdout").as_string(), "made\n");
  EXPECT_EQ(out.at("exit_status").as_int64(), 0);
  EXPECT_TRUE(std::filesystem::is_directory(made));
  // Once: the approval is spent, the next identical call is held again.
  auto again = exec(*agent_, session, command);
  EXPECT_EQ(structured(again).at("status").as_string(), "pending_review") << json::serialize(again);
}

TEST_F(McpSshTest, AHeldCommandApprovedWithinTheWaitRunsInTheSameCall) {
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  const auto made = sshd_->home_dir() / "waited-dir";
  const std::string command = "mkdir " + made.string() + " && echo made";
  auto call = std::async(std::launch::async, [&] {
    return exec(*agent_, session, command, {{"wait", 30}});
  });
  const auto review = pending_review_id(gateway_->http_port(), *lead_, "claude", "waited-dir");
  ASSERT_FALSE(review.empty());
  auto vote = call_api(gateway_->http_port(), http::verb::post,
                       "/api/v1/reviews/" + review + "/approve", *lead_, R"({"comment":"ok"})");
  ASSERT_EQ(vote.status, 200u) << vote.text;
  ASSERT_EQ(call.wait_for(30s), std::future_status::ready);
  auto ran = call.get();
  const auto& out = structured(ran);
  ASSERT_FALSE(out.empty()) << json::serialize(ran);
  EXPECT_EQ(out.at("status").as_string(), "ok") << json::serialize(ran);
  EXPECT_EQ(out.at("stdout").as_string(), "made\n");
  // The hold notice the front end wrote first is not the command's output.
  EXPECT_EQ(out.at("stderr").as_string(), "") << json::serialize(ran);
  EXPECT_TRUE(std::filesystem::is_directory(made));
}

TEST_F(McpSshTest, EndlessOutputIsCutAtTheLimit) {
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  // Never ends by itself: the call returns at the limit, the command is ended with its channel.
  auto ran = exec(*agent_, session, "tr '\\0' a < /dev/zero");
  const auto& out = structured(ran);
  ASSERT_FALSE(out.empty()) << ran.size();
  EXPECT_TRUE(out.at("truncated").as_bool());
  EXPECT_EQ(out.at("stdout").as_string().size(), 4u * 1024 * 1024);
  EXPECT_FALSE(out.contains("exit_status"));
  auto next = exec(*agent_, session, "echo after");
  EXPECT_EQ(structured(next).at("stdout").as_string(), "after\n") << json::serialize(next);
}

TEST_F(McpSshTest, ACommandPastItsTimeoutIsEnded) {
  const auto session = mcp_initialize(gateway_->http_port(), *agent_);
  const auto started = std::chrono::steady_clock::now();
  auto ran = exec(*agent_, session, "echo started; sleep 30", {{"timeout", 1}});
  const auto took = std::chrono::steady_clock::now() - started;
  const auto& out = structured(ran);
  ASSERT_FALSE(out.empty()) << json::serialize(ran);
  EXPECT_TRUE(ran.at("isError").as_bool());
  EXPECT_TRUE(out.at("timed_out").as_bool()) << json::serialize(ran);
  EXPECT_EQ(out.at("stdout").as_string(), "started\n");
  EXPECT_LT(took, std::chrono::seconds(10));
  auto next = exec(*agent_, session, "echo after");
  EXPECT_EQ(structured(next).at("stdout").as_string(), "after\n") << json::serialize(next);
}

TEST_F(McpSshTest, ACallerWithoutAGrantIsRefusedAtLogin) {
  const std::string token = gateway_->token_for("olga", "outsiders");
  const auto session = mcp_initialize(gateway_->http_port(), token);
  auto refused = exec(token, session, "echo hi");
  EXPECT_TRUE(refused.at("isError").as_bool()) << json::serialize(refused);
  EXPECT_EQ(structured(refused).at("status").as_string(), "refused") << json::serialize(refused);
  // The front end's reason, from its login banner.
  EXPECT_TRUE(structured(refused).at("message").as_string().starts_with("access denied: "))
      << json::serialize(refused);
}

TEST_F(McpSshTest, AnApiKeyLogsInToo) {
  auto created = gateway_->cli({"apikey", "create", "--name", "mcp-bot", "--group", "agents"});
  ASSERT_TRUE(created.ok()) << created.describe();
  std::string key = created.stdout_text;
  key.erase(key.find_last_not_of("\r\n") + 1);
  const auto session = mcp_initialize(gateway_->http_port(), key);
  auto ran = exec(key, session, "echo from-key");
  EXPECT_EQ(structured(ran).at("stdout").as_string(), "from-key\n") << json::serialize(ran);
}

TEST_F(McpSshTest, KillingTheGatewaySessionEndsTheCall) {
  const std::string token = gateway_->token_for("kim", "agents");
  const auto session = mcp_initialize(gateway_->http_port(), token);
  auto call = std::async(std::launch::async,
                         [&] { return exec(token, session, "echo started; exec sleep 60"); });
  std::string live;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (live.empty() && std::chrono::steady_clock::now() < deadline) {
    auto listed = call_api(gateway_->http_port(), http::verb::get, "/api/v1/sessions", *admin_);
    if (listed.status == 200u)
      for (const auto& s : listed.body.at("sessions").as_array())
        if (s.as_object().at("subject").as_string() == "kim" &&
            s.as_object().at("bytes_out").to_number<int64_t>() > 0)  // "started\n" came back
          live = std::string(s.as_object().at("id").as_string());
    if (live.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(live.empty());
  auto killed = call_api(gateway_->http_port(), http::verb::post,
                         "/api/v1/sessions/" + live + "/kill", *admin_, "{}");
  ASSERT_EQ(killed.status, 200u) << killed.text;
  ASSERT_EQ(call.wait_for(30s), std::future_status::ready);
  auto ended = call.get();
  EXPECT_TRUE(ended.at("isError").as_bool()) << json::serialize(ended);
  EXPECT_EQ(structured(ended).at("status").as_string(), "session_ended") << json::serialize(ended);
  // The agent's MCP session ended with it; a new one reaches the host again.
  const auto next = mcp_initialize(gateway_->http_port(), token);
  auto ran = exec(token, next, "echo back");
  EXPECT_EQ(structured(ran).at("stdout").as_string(), "back\n") << json::serialize(ran);
}

}  // namespace
}  // namespace portcullis::testing
