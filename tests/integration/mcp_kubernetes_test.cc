// The MCP endpoint's kubernetes tool end to end: raw JSON-RPC over HTTP to /mcp, through the
// gateway's own Kubernetes front end (an HTTPS client inside the process) to the stand-in API
// server. Reads come back as JSON and masked, Secrets redacted; refusals are the gateway's
// Status; a held request answers pending_review at once and runs once approved; the journal
// records the agent behind "mcp/".
#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "api_call.h"
#include "contains.h"
#include "kube_gateway.h"
#include "mcp_calls.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;
namespace json = boost::json;

class McpKubernetesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    KubeGatewayOptions options;
    options.access_section =
        "access:\n"
        "  - name: agent-readers\n"
        "    who: { groups: [agent-readers] }\n"
        "    connections: [cluster]\n"
        "    allow: [read]\n"
        "    masking: pii\n"
        "  - name: agent-writers\n"
        "    who: { groups: [agent-writers] }\n"
        "    connections: [cluster]\n"
        "    allow: [read, write]\n"
        "    masking: pii\n";
    options.guardrails_section =
        "guardrails:\n"
        "  - name: default-pod-deletes-need-approval\n"
        "    when: { verbs: [delete], resources: [pods], namespaces: [default] }\n"
        "    action: review\n"
        "    reviewers: { groups: [leads] }\n"
        "    wait: 60s\n";
    options.extra_sections = "api:\n  admin_groups: [admins]\n";
    gateway_ = new KubeGateway(options);
    reader_ = new std::string(gateway_->token_for("rita", "agent-readers"));
    writer_ = new std::string(gateway_->token_for("walt", "agent-writers"));
    lead_ = new std::string(gateway_->token_for("lee", "leads"));
    admin_ = new std::string(gateway_->token_for("ada", "admins"));
  }
  static void TearDownTestSuite() {
    delete admin_;
    delete lead_;
    delete writer_;
    delete reader_;
    delete gateway_;
  }

  static std::string initialize(const std::string& token) {
    return mcp_initialize(gateway_->http_port(), token);
  }

  // tools/call kubernetes: the whole HTTP answer (its text is checked for leaks).
  static ApiResponse kubernetes(const std::string& token, const std::string& session,
                                json::object arguments) {
    arguments.emplace("connection", "cluster");
    auto answer = mcp_request(gateway_->http_port(), token, session, "tools/call",
                              {{"name", "kubernetes"}, {"arguments", std::move(arguments)}});
    EXPECT_EQ(answer.status, 200u) << answer.text;
    return answer;
  }

  // The CallToolResult of an answer.
  static json::object result(const ApiResponse& answer) {
    if (!answer.body.is_object() || !answer.body.as_object().contains("result")) {
      ADD_FAILURE() << "no result: " << answer.text;
      return {};
    }
    return answer.body.at("result").as_object();
  }

  static std::string journal_of(const std::string& subject, const std::string& awaited) {
    auto journal = gateway_->cli({"audit", "search", "--subject", subject, "--json"});
    for (int i = 0; i < 100 && !contains(journal.stdout_text, awaited); ++i) {
      std::this_thread::sleep_for(50ms);
      journal = gateway_->cli({"audit", "search", "--subject", subject, "--json"});
    }
    EXPECT_TRUE(journal.ok()) << journal.describe();
    return journal.stdout_text;
  }

  static KubeGateway* gateway_;
  static std::string* reader_;
  static std::string* writer_;
  static std::string* lead_;
  static std::string* admin_;
};

KubeGateway* McpKubernetesTest::gateway_ = nullptr;
std::string* McpKubernetesTest::reader_ = nullptr;
std::string* McpKubernetesTest::writer_ = nullptr;
std::string* McpKubernetesTest::lead_ = nullptr;
std::string* McpKubernetesTest::admin_ = nullptr;

TEST_F(McpKubernetesTest, ListConnectionsOffersTheKubernetesTool) {
  const auto session = initialize(*reader_);
  auto answer = mcp_request(gateway_->http_port(), *reader_, session, "tools/call",
                            {{"name", "list_connections"}, {"arguments", json::object{}}});
  const auto listed = result(answer);
  ASSERT_TRUE(listed.contains("structuredContent")) << answer.text;
  const auto& connections = listed.at("structuredContent").at("connections").as_array();
  ASSERT_EQ(connections.size(), 1u) << answer.text;
  const auto& cluster = connections[0].as_object();
  EXPECT_EQ(cluster.at("name").as_string(), "cluster");
  EXPECT_EQ(cluster.at("kind").as_string(), "kubernetes");
  EXPECT_EQ(cluster.at("tools").as_array(), (json::array{"kubernetes"}));
  EXPECT_TRUE(cluster.at("read_only").as_bool());
}

TEST_F(McpKubernetesTest, ReadsComeBackAsJsonAndAreJournaledAsTheAgents) {
  const auto session = initialize(*reader_);
  auto answer =
      kubernetes(*reader_, session, {{"method", "GET"}, {"path", "/api/v1/namespaces/prod/pods"}});
  const auto pods = result(answer);
  ASSERT_TRUE(pods.contains("structuredContent")) << answer.text;
  EXPECT_FALSE(pods.at("isError").as_bool()) << answer.text;
  const auto& out = pods.at("structuredContent").as_object();
  EXPECT_EQ(out.at("status").as_string(), "ok");
  EXPECT_EQ(out.at("http_status").as_int64(), 200);
  EXPECT_FALSE(out.at("truncated").as_bool());
  ASSERT_TRUE(out.contains("body")) << answer.text;
  EXPECT_EQ(out.at("body").at("kind").as_string(), "PodList");
  EXPECT_TRUE(contains(answer.text, "web-5b7c8d9f4-x2k9p")) << answer.text;

  // The next call rides the same connection, and values are masked as kubectl's are.
  auto config =
      kubernetes(*reader_, session,
                 {{"method", "GET"}, {"path", "/api/v1/namespaces/prod/configmaps/app-config"}});
  EXPECT_EQ(result(config).at("structuredContent").at("http_status").as_int64(), 200)
      << config.text;
  EXPECT_TRUE(contains(config.text, "app-config")) << config.text;
  EXPECT_FALSE(contains(config.text, "alice@example.com")) << config.text;
  EXPECT_FALSE(contains(config.text, "123-45-6789")) << config.text;

  // Recorded as any request, with the agent's address behind "mcp/".
  const auto journal = journal_of("rita", "GET /api/v1/namespaces/prod/pods");
  EXPECT_TRUE(contains(journal, "GET /api/v1/namespaces/prod/pods")) << journal;
  EXPECT_TRUE(contains(journal, "\"protocol\":\"kubernetes\"")) << journal;
  EXPECT_TRUE(contains(journal, "\"client_addr\":\"mcp/127.0.0.1:")) << journal;
  // The agent's token never reached the cluster.
  EXPECT_FALSE(contains(gateway_->upstream_requests(), *reader_));
}

TEST_F(McpKubernetesTest, SecretsAreRefusedOrRedactedWithoutTheirClass) {
  const auto session = initialize(*writer_);
  // A Secret a write returns comes back redacted: its value is nowhere in the answer.
  auto created = kubernetes(
      *writer_, session,
      {{"method", "POST"},
       {"path", "/api/v1/namespaces/default/secrets"},
       {"body", json::object{{"apiVersion", "v1"},
                             {"kind", "Secret"},
                             {"metadata", json::object{{"name", "agent-made"}}},
                             {"data", json::object{{"password", "aHVudGVyMi14eXo="}}}}}});
  const auto made = result(created);
  ASSERT_TRUE(made.contains("structuredContent")) << created.text;
  EXPECT_EQ(made.at("structuredContent").at("http_status").as_int64(), 201) << created.text;
  EXPECT_FALSE(contains(created.text, "aHVudGVyMi14eXo=")) << created.text;
  EXPECT_FALSE(contains(created.text, "hunter2")) << created.text;
  EXPECT_TRUE(contains(created.text, "W3JlZGFjdGVkXQ==")) << created.text;
  // Reading one is refused, and nothing of it comes back.
  auto read =
      kubernetes(*writer_, session,
                 {{"method", "GET"}, {"path", "/api/v1/namespaces/prod/secrets/db-credentials"}});
  const auto refused = result(read);
  EXPECT_TRUE(refused.at("isError").as_bool()) << read.text;
  EXPECT_EQ(refused.at("structuredContent").at("http_status").as_int64(), 403) << read.text;
  EXPECT_TRUE(contains(read.text, "reading secrets is not allowed")) << read.text;
  EXPECT_FALSE(contains(read.text, "czNjcjN0LXBhc3N3MHJk")) << read.text;
  EXPECT_FALSE(contains(read.text, "s3cr3t-passw0rd")) << read.text;
}

TEST_F(McpKubernetesTest, RefusedRequestsAreErrorsWithTheGatewaysStatus) {
  const auto session = initialize(*reader_);
  auto deleted = kubernetes(*reader_, session,
                            {{"method", "DELETE"}, {"path", "/api/v1/namespaces/prod/pods/db-0"}});
  const auto refused = result(deleted);
  EXPECT_TRUE(refused.at("isError").as_bool()) << deleted.text;
  const auto& out = refused.at("structuredContent").as_object();
  EXPECT_EQ(out.at("status").as_string(), "error");
  EXPECT_EQ(out.at("http_status").as_int64(), 403);
  EXPECT_EQ(out.at("body").at("kind").as_string(), "Status") << deleted.text;
  EXPECT_TRUE(contains(std::string(out.at("body").at("message").as_string()),
                       "portcullis: blocked by rule"))
      << deleted.text;
  // Administration, refused on the same connection, which goes on serving.
  auto roles =
      kubernetes(*reader_, session,
                 {{"method", "GET"}, {"path", "/apis/rbac.authorization.k8s.io/v1/clusterroles"}});
  EXPECT_TRUE(result(roles).at("isError").as_bool()) << roles.text;
  EXPECT_TRUE(contains(roles.text, "administration")) << roles.text;
  const auto upstream = gateway_->upstream_requests();
  EXPECT_FALSE(
      contains(upstream, "\"method\": \"DELETE\", \"path\": \"/api/v1/namespaces/prod/pods/db-0"))
      << upstream;
  EXPECT_FALSE(contains(upstream, "clusterroles")) << upstream;
}

TEST_F(McpKubernetesTest, AHeldRequestAnswersPendingReviewAndRunsOnceApproved) {
  const auto session = initialize(*writer_);
  const json::object remove{{"method", "DELETE"},
                            {"path", "/api/v1/namespaces/default/pods/scratch"}};
  const auto asked = std::chrono::steady_clock::now();
  auto held = kubernetes(*writer_, session, remove);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 10s) << "wait 0 answers at once";
  const auto pending = result(held);
  ASSERT_TRUE(pending.contains("structuredContent")) << held.text;
  EXPECT_FALSE(pending.at("isError").as_bool()) << held.text;
  const auto& out = pending.at("structuredContent").as_object();
  EXPECT_EQ(out.at("status").as_string(), "pending_review") << held.text;
  const std::string review(out.at("review").as_string());
  ASSERT_FALSE(review.empty()) << held.text;
  EXPECT_EQ(out.at("rule").as_string(), "default-pod-deletes-need-approval");
  EXPECT_FALSE(
      contains(gateway_->upstream_requests(),
               "\"method\": \"DELETE\", \"path\": \"/api/v1/namespaces/default/pods/scratch"));

  // The agent left the hold: its review stays pending until a reviewer decides it.
  const auto found = pending_review_id(gateway_->http_port(), *lead_, "walt",
                                       "DELETE /api/v1/namespaces/default/pods/scratch");
  EXPECT_EQ(found, review);
  auto approved = call_api(gateway_->http_port(), http::verb::post,
                           "/api/v1/reviews/" + review + "/approve", *lead_, "{}");
  ASSERT_EQ(approved.status, 200u) << approved.text;

  // The same call again runs once.
  auto ran = kubernetes(*writer_, session, remove);
  const auto done = result(ran);
  ASSERT_TRUE(done.contains("structuredContent")) << ran.text;
  EXPECT_FALSE(done.at("isError").as_bool()) << ran.text;
  EXPECT_EQ(done.at("structuredContent").at("http_status").as_int64(), 200) << ran.text;
  auto gone = kubernetes(*writer_, session,
                         {{"method", "GET"}, {"path", "/api/v1/namespaces/default/pods/scratch"}});
  EXPECT_EQ(result(gone).at("structuredContent").at("http_status").as_int64(), 404) << gone.text;

  const auto journal = journal_of("walt", "\"approved\"");
  EXPECT_TRUE(contains(journal, review)) << journal;
  EXPECT_TRUE(contains(journal, "\"client_addr\":\"mcp/127.0.0.1:")) << journal;
}

// Killing the front end's session under the agent's kept connection ends the agent's call: it
// says so, and the agent's MCP session ends with it, as a psql user's connection does.
TEST_F(McpKubernetesTest, KillingTheSessionEndsTheAgents) {
  const auto token = gateway_->token_for("rory", "agent-readers");
  const auto session = initialize(token);
  const json::object list{{"method", "GET"}, {"path", "/api/v1/namespaces/prod/pods"}};
  auto first = kubernetes(token, session, list);
  ASSERT_FALSE(result(first).at("isError").as_bool()) << first.text;
  auto live = call_api(gateway_->http_port(), http::verb::get, "/api/v1/sessions", *admin_);
  ASSERT_EQ(live.status, 200u) << live.text;
  std::string id;
  for (const auto& entry : live.body.at("sessions").as_array())
    if (entry.at("subject").as_string() == "rory") {
      EXPECT_TRUE(std::string(entry.at("client_addr").as_string()).starts_with("mcp/127.0.0.1:"))
          << live.text;
      id = std::string(entry.at("id").as_string());
    }
  ASSERT_FALSE(id.empty()) << live.text;
  auto killed = call_api(gateway_->http_port(), http::verb::post,
                         "/api/v1/sessions/" + id + "/kill", *admin_);
  ASSERT_EQ(killed.status, 200u) << killed.text;
  // The front end closes the connection on its own thread: give it a moment.
  std::this_thread::sleep_for(200ms);
  auto after = kubernetes(token, session, list);
  const auto ended = result(after);
  EXPECT_TRUE(ended.at("isError").as_bool()) << after.text;
  EXPECT_EQ(ended.at("structuredContent").at("status").as_string(), "session_ended") << after.text;
  EXPECT_FALSE(contains(after.text, "web-5b7c8d9f4-x2k9p")) << after.text;
  // The MCP session is gone: the agent initializes again.
  auto gone = mcp_request(gateway_->http_port(), token, session, "tools/list", {});
  EXPECT_EQ(gone.status, 404u) << gone.text;
}

}  // namespace
}  // namespace portcullis::testing
