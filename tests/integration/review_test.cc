// End to end: the approval workflow and incident response of the real gateway in front of a
// real PostgreSQL — statements held for review (psql, simple and extended protocol, inside a
// transaction), approved through the CLI by a second identity, rejected, timed out and run
// again once approved; self-approval refused; just-in-time access; sessions killed and
// subjects revoked; webhooks reaching a local receiver; who may call what.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "api_call.h"
#include "gateway_fixture.h"
#include "http_receiver.h"
#include "support/postgres_server.h"

namespace portcullis::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kReviewAccess =
    "access:\n"
    "  - name: dba\n"
    "    who: { groups: [dba] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read, write, ddl, dcl, admin]\n"
    "  - name: contractors-on-request\n"
    "    who: { groups: [contractors] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read]\n"
    "    requires_request: true\n"
    "    reviewers: { groups: [leads] }\n"
    "    max_duration: 1h\n";

std::string guardrails(const std::string& wait) {
  return "guardrails:\n"
         "  - name: unbounded-writes-need-approval\n"
         "    when: { statements: [delete, update], where: absent }\n"
         "    action: review\n"
         "    reviewers: { groups: [leads] }\n"
         "    wait: " +
         wait +
         "\n"
         "  - name: drops-need-two\n"
         "    when: { statements: [drop_table] }\n"
         "    action: review\n"
         "    reviewers: { groups: [leads] }\n"
         "    min_approvals: 2\n"
         "    wait: " +
         wait + "\n";
}

class ReviewTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    receiver_ = new HttpReceiver();
    gateway_ = new GatewayProcess(*postgres_, options("60s"));
    dan_ = new std::string(gateway_->token_for("dan", "dba"));
    lee_ = new std::string(gateway_->token_for("lee", "leads"));
    lou_ = new std::string(gateway_->token_for("lou", "leads"));
    admin_ = new std::string(gateway_->token_for("ada", "platform-admins"));
  }
  static void TearDownTestSuite() {
    delete admin_;
    delete lou_;
    delete lee_;
    delete dan_;
    delete gateway_;
    delete receiver_;
    delete postgres_;
  }

  static GatewayOptions options(const std::string& wait) {
    GatewayOptions o;
    o.http_listener = true;
    o.api_section = "api:\n  admin_groups: [platform-admins]\n  auditor_groups: [security]\n";
    o.access_section = kReviewAccess;
    o.guardrails_section = guardrails(wait);
    o.extra_sections = fmt::format(
        "reviews:\n  grant_lifetime: 15m\n"
        "notifications:\n"
        "  webhooks:\n"
        "    - {{ name: test-json, url: \"{}\", format: json }}\n"
        "    - {{ name: test-slack, url: \"{}\", format: slack }}\n",
        receiver_->url("/hooks/json"), receiver_->url("/hooks/slack"));
    return o;
  }

  void SetUp() override {
    auto setup = postgres_->psql_superuser(
        "drop table if exists items; create table items (id int primary key, name text);"
        "insert into items select g, 'item ' || g from generate_series(1, 10) g;"
        "alter table items owner to " +
        postgres_->scram_role().name + ";");
    ASSERT_TRUE(setup.ok()) << setup.describe();
  }

  static std::string api_url() { return fmt::format("http://127.0.0.1:{}", gateway_->http_port()); }

  // psql through the gateway, running in the background.
  static ChildProcess start_psql(const std::string& user, const std::string& token,
                                 std::vector<std::string> args,
                                 std::optional<std::string> script = {}) {
    ChildOptions child;
    child.stdin_data = std::move(script);
    child.argv = {pg_bin("psql").string(), "-X", "-v", "ON_ERROR_STOP=1",
                  gateway_->conninfo(user, "")};
    child.argv.insert(child.argv.end(), args.begin(), args.end());
    child.env = {{"PGPASSWORD", token}, {"PGCONNECT_TIMEOUT", "10"}};
    child.unset_env = {"PGSSLMODE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"};
    return ChildProcess(std::move(child));
  }

  // The id of the pending review of `requester` whose command contains `text`, once it
  // exists (as a reviewer sees it through the CLI).
  static std::string wait_for_pending(const std::string& requester, const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto listed = gateway_->cli({"review", "list", "--status", "pending", "--json", "--api",
                                   api_url(), "--token", *lee_});
      if (listed.ok()) {
        auto reviews = json::parse(listed.stdout_text).at("reviews").as_array();
        for (const auto& review : reviews) {
          const auto& r = review.as_object();
          if (r.at("requester").as_string() == requester &&
              std::string(r.at("command").as_string()).find(text) != std::string::npos)
            return std::string(r.at("id").as_string());
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    return {};
  }

  static RunResult review(const std::string& verb, const std::string& id, const std::string& token,
                          const std::string& comment = "checked") {
    return gateway_->cli(
        {"review", verb, id, "--comment", comment, "--api", api_url(), "--token", token});
  }

  // Waits until the gateway logs a line holding every one of `parts` (an event and its
  // review id): the state a negative check relies on is then reached, not guessed at.
  static bool wait_for_log_line(const std::vector<std::string>& parts) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      std::istringstream log(gateway_->process().stdout_text() + gateway_->process().stderr_text());
      for (std::string line; std::getline(log, line);) {
        bool all = true;
        for (const auto& part : parts) all = all && line.find(part) != std::string::npos;
        if (all) return true;
      }
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(50ms);
    }
  }

  // Waits until no live session of `subject` is left in the API's list.
  static bool wait_until_no_session_of(const std::string& subject) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      auto listed = call_api(gateway_->http_port(), http::verb::get, "/api/v1/sessions", *admin_);
      bool gone = listed.status == 200u;
      if (gone)
        for (const auto& s : listed.body.at("sessions").as_array())
          if (s.at("subject").as_string() == subject) gone = false;
      if (gone) return true;
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(100ms);
    }
  }

  // The review's status as the API shows it to `token`.
  static std::string review_status(const std::string& id, const std::string& token) {
    auto shown = call_api(gateway_->http_port(), http::verb::get, "/api/v1/reviews/" + id, token);
    if (shown.status != 200u) return "HTTP " + std::to_string(shown.status);
    return std::string(shown.body.at("status").as_string());
  }

  static std::string count_items() {
    return postgres_->psql_superuser("select count(*) from items").stdout_text;
  }

  static PostgresServer* postgres_;
  static HttpReceiver* receiver_;
  static GatewayProcess* gateway_;
  static std::string* dan_;
  static std::string* lee_;
  static std::string* lou_;
  static std::string* admin_;
};

PostgresServer* ReviewTest::postgres_ = nullptr;
HttpReceiver* ReviewTest::receiver_ = nullptr;
GatewayProcess* ReviewTest::gateway_ = nullptr;
std::string* ReviewTest::dan_ = nullptr;
std::string* ReviewTest::lee_ = nullptr;
std::string* ReviewTest::lou_ = nullptr;
std::string* ReviewTest::admin_ = nullptr;

TEST_F(ReviewTest, HeldDeleteApprovedThroughTheCliCompletes) {
  auto psql = start_psql("dan", *dan_, {"-c", "delete from items"});
  const auto id = wait_for_pending("dan", "delete from items");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  // Held, not run: the backend still has every row while the review is pending.
  EXPECT_TRUE(psql.running());
  EXPECT_EQ(count_items(), "10\n");
  EXPECT_TRUE(
      psql.wait_for_output("approval required by rule \"unbounded-writes-need-approval\"; "
                           "review " +
                               id + "; waiting up to 60s",
                           10s))
      << psql.stderr_text();

  auto approved = review("approve", id, *lee_, "cleanup agreed in ticket 42");
  ASSERT_TRUE(approved.ok()) << approved.describe();
  const auto status = psql.wait(30s);
  EXPECT_TRUE(status.success()) << status.describe() << psql.stderr_text();
  EXPECT_NE(psql.stdout_text().find("DELETE 10"), std::string::npos) << psql.stdout_text();
  EXPECT_EQ(count_items(), "0\n");

  // The journal has every step: held, the reviewer's approval, the statement run with its
  // result. The searchable index follows the journal by a few tens of milliseconds: the search
  // is repeated until the last step is there (or 15 s have passed).
  const auto give_up = std::chrono::steady_clock::now() + 15s;
  auto search = gateway_->cli({"audit", "search", "--subject", "dan", "--json"});
  while (search.ok() && search.stdout_text.find("\"reviewer\":\"lee\"") == std::string::npos &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(50ms);
    search = gateway_->cli({"audit", "search", "--subject", "dan", "--json"});
  }
  ASSERT_TRUE(search.ok()) << search.describe();
  EXPECT_NE(search.stdout_text.find("\"verdict\":\"review_pending\""), std::string::npos);
  EXPECT_NE(search.stdout_text.find("\"verdict\":\"approved\""), std::string::npos);
  EXPECT_NE(search.stdout_text.find("\"reviewer\":\"lee\""), std::string::npos);
  auto shown = call_api(gateway_->http_port(), http::verb::get, "/api/v1/reviews/" + id, *lee_);
  ASSERT_EQ(shown.status, 200u) << json::serialize(shown.body);
  EXPECT_EQ(shown.body.at("status").as_string(), "executed");
  EXPECT_EQ(shown.body.at("decided_by").as_string(), "lee");
  EXPECT_EQ(shown.body.at("comment").as_string(), "cleanup agreed in ticket 42");

  // The webhooks heard of it: the generic payload and the Slack one, each naming the review.
  ASSERT_TRUE(receiver_->wait_for_requests(2, 10s));
  bool json_seen = false;
  bool slack_seen = false;
  for (const auto& request : receiver_->requests()) {
    if (request.body.find(id) == std::string::npos) continue;
    if (request.target == "/hooks/json" &&
        request.body.find("\"event\":\"review_pending\"") != std::string::npos)
      json_seen = true;
    if (request.target == "/hooks/slack" && request.body.find("\"text\"") != std::string::npos)
      slack_seen = true;
  }
  EXPECT_TRUE(json_seen);
  EXPECT_TRUE(slack_seen);
}

TEST_F(ReviewTest, RejectedStatementFailsWithTheReviewersComment) {
  auto psql = start_psql("dan", *dan_, {"-c", "update items set name = 'x'"});
  const auto id = wait_for_pending("dan", "update items set name");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  auto rejected = review("reject", id, *lee_, "use a WHERE clause");
  ASSERT_TRUE(rejected.ok()) << rejected.describe();
  const auto status = psql.wait(30s);
  EXPECT_FALSE(status.success());
  EXPECT_NE(psql.stderr_text().find("review " + id + " was rejected by lee: use a WHERE clause"),
            std::string::npos)
      << psql.stderr_text();
  EXPECT_EQ(postgres_->psql_superuser("select count(*) from items where name = 'x'").stdout_text,
            "0\n");
}

TEST_F(ReviewTest, HeldInsideATransactionAndThroughTheExtendedProtocol) {
  // pgbench -M extended sends each statement as Parse/Bind/Execute/Sync: the Execute of the
  // DELETE is held, inside the script's transaction.
  const auto script = gateway_->dir() / "held.sql";
  {
    std::ofstream out(script);
    out << "begin;\ninsert into items values (100, 'new');\ndelete from items;\ncommit;\n";
  }
  ChildOptions child;
  child.argv = {pg_bin("pgbench").string(),
                "-n",
                "-M",
                "extended",
                "-t",
                "1",
                "-f",
                script.string(),
                "-h",
                "127.0.0.1",
                "-p",
                std::to_string(gateway_->port()),
                "-U",
                "dan",
                "app-db"};
  child.env = {{"PGPASSWORD", *dan_}, {"PGCONNECT_TIMEOUT", "10"}};
  child.unset_env = {"PGSSLMODE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"};
  ChildProcess pgbench(std::move(child));
  const auto id = wait_for_pending("dan", "delete from items");
  ASSERT_FALSE(id.empty()) << pgbench.stderr_text();
  EXPECT_EQ(count_items(), "10\n");
  auto approved = review("approve", id, *lee_);
  ASSERT_TRUE(approved.ok()) << approved.describe();
  const auto status = pgbench.wait(30s);
  EXPECT_TRUE(status.success()) << status.describe() << pgbench.stderr_text();
  EXPECT_NE(pgbench.stdout_text().find("number of transactions actually processed: 1/1"),
            std::string::npos)
      << pgbench.stdout_text();
  EXPECT_EQ(count_items(), "0\n");
}

TEST_F(ReviewTest, CtrlCWithdrawsAHeldStatement) {
  auto psql = start_psql("dan", *dan_, {"-c", "delete from items as c"});
  const auto id = wait_for_pending("dan", "delete from items as c");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  psql.send_signal(SIGINT);  // psql sends a CancelRequest on a new connection
  const auto status = psql.wait(20s);
  EXPECT_FALSE(status.timed_out);
  EXPECT_NE(psql.stderr_text().find("canceling the held statement on user request"),
            std::string::npos)
      << psql.stderr_text();
  // The gateway let go of the held statement, and the session that held it has ended...
  EXPECT_TRUE(wait_for_log_line({"event=hold_cancelled ", "review=" + id}));
  EXPECT_TRUE(wait_until_no_session_of("dan"));
  // ...so an approval given now finds nothing to run: the review stays approved, never
  // executed, and the rows are all there.
  ASSERT_TRUE(review("approve", id, *lee_).ok());
  EXPECT_EQ(review_status(id, *lee_), "approved");
  EXPECT_EQ(count_items(), "10\n");
}

TEST_F(ReviewTest, AClientThatLeavesWhileHeldRunsNothing) {
  auto psql = start_psql("dan", *dan_, {"-c", "delete from items as l"});
  const auto id = wait_for_pending("dan", "delete from items as l");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  psql.kill9();  // the connection closes without a Terminate
  // The session notices, gives the hold up and ends: no live session of dan is left.
  EXPECT_TRUE(wait_for_log_line({"event=hold_abandoned ", "review=" + id}));
  EXPECT_TRUE(wait_until_no_session_of("dan"));
  // An approval given now finds nothing to run: approved, never executed, every row there.
  ASSERT_TRUE(review("approve", id, *lee_).ok());
  EXPECT_EQ(review_status(id, *lee_), "approved");
  EXPECT_EQ(count_items(), "10\n");
}

TEST_F(ReviewTest, SelfApprovalAndOutsidersAreRefused) {
  // dan is a lead too here: still cannot approve his own statement.
  const std::string dan_lead = gateway_->issue_token("dan", {"dba", "leads"});
  auto psql = start_psql("dan", dan_lead, {"-c", "delete from items as s"});
  const auto id = wait_for_pending("dan", "delete from items as s");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  auto self = review("approve", id, dan_lead);
  EXPECT_EQ(self.exit_code, 1) << self.describe();
  EXPECT_NE(self.stderr_text.find("requesters cannot decide their own review"), std::string::npos)
      << self.stderr_text;
  // Someone who is not a reviewer of the rule: refused, and does not even see the review.
  const std::string outsider = gateway_->token_for("otto", "engineering");
  auto vote = call_api(gateway_->http_port(), http::verb::post,
                       "/api/v1/reviews/" + id + "/approve", outsider, "{}");
  EXPECT_EQ(vote.status, 403u) << json::serialize(vote.body);
  auto peek = call_api(gateway_->http_port(), http::verb::get, "/api/v1/reviews/" + id, outsider);
  EXPECT_EQ(peek.status, 404u);
  auto anonymous =
      call_api(gateway_->http_port(), http::verb::post, "/api/v1/reviews/" + id + "/approve", "");
  EXPECT_EQ(anonymous.status, 401u);
  EXPECT_EQ(call_api(gateway_->http_port(), http::verb::get, "/api/v1/sessions", *lee_).status,
            403u);
  EXPECT_TRUE(psql.running());
  ASSERT_TRUE(review("reject", id, *lou_).ok());
  psql.wait(30s);
  EXPECT_EQ(count_items(), "10\n");
}

TEST_F(ReviewTest, TwoApprovalsWhenTheRuleAsksForTwo) {
  postgres_->psql_superuser(
      "create table if not exists scratch (x int); alter table scratch "
      "owner to " +
      postgres_->scram_role().name);
  auto psql = start_psql("dan", *dan_, {"-c", "drop table scratch"});
  const auto id = wait_for_pending("dan", "drop table scratch");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  auto first = review("approve", id, *lee_);
  ASSERT_TRUE(first.ok()) << first.describe();
  EXPECT_NE(first.stdout_text.find("still pending"), std::string::npos) << first.stdout_text;
  auto again = review("approve", id, *lee_);
  EXPECT_EQ(again.exit_code, 1) << again.describe();  // one vote per reviewer
  EXPECT_TRUE(psql.running());
  ASSERT_TRUE(review("approve", id, *lou_).ok());
  EXPECT_TRUE(psql.wait(30s).success()) << psql.stderr_text();
  EXPECT_EQ(postgres_->psql_superuser("select to_regclass('scratch') is null").stdout_text, "t\n");
}

TEST_F(ReviewTest, KillEndsALiveSession) {
  auto psql = start_psql("dan", *dan_, {"-c", "select pg_sleep(60)"});
  std::string id;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (id.empty() && std::chrono::steady_clock::now() < deadline) {
    auto listed =
        gateway_->cli({"sessions", "list", "--json", "--api", api_url(), "--token", *admin_});
    ASSERT_TRUE(listed.ok()) << listed.describe();
    const auto parsed = json::parse(listed.stdout_text);
    for (const auto& s : parsed.at("sessions").as_array())
      if (s.at("subject").as_string() == "dan") id = std::string(s.at("id").as_string());
    if (id.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(id.empty());
  auto killed = gateway_->cli({"sessions", "kill", id, "--api", api_url(), "--token", *admin_});
  ASSERT_TRUE(killed.ok()) << killed.describe();
  const auto status = psql.wait(10s);
  EXPECT_FALSE(status.timed_out);
  EXPECT_NE(psql.stderr_text().find("ended by ada"), std::string::npos) << psql.stderr_text();
}

TEST_F(ReviewTest, RevokeEndsSessionsAndRefusesTheSubjectsTokens) {
  const std::string token = gateway_->token_for("rex", "dba");
  auto psql = start_psql("rex", token, {"-c", "select pg_sleep(60)"});
  // Connected once the session is listed.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  bool live = false;
  while (!live && std::chrono::steady_clock::now() < deadline) {
    auto listed = call_api(gateway_->http_port(), http::verb::get, "/api/v1/sessions", *admin_);
    for (const auto& s : listed.body.at("sessions").as_array())
      if (s.at("subject").as_string() == "rex") live = true;
    if (!live) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(live);
  auto revoked = gateway_->cli({"revoke", "--subject", "rex", "--reason", "laptop stolen", "--api",
                                api_url(), "--token", *admin_});
  ASSERT_TRUE(revoked.ok()) << revoked.describe();
  EXPECT_NE(revoked.stdout_text.find("1 live session"), std::string::npos) << revoked.stdout_text;
  const auto after_revocation = std::chrono::system_clock::now();
  // Ended by the revocation, well before pg_sleep(60) would end: the client says why.
  const auto status = psql.wait(30s);
  EXPECT_FALSE(status.timed_out);
  EXPECT_FALSE(status.success());
  EXPECT_NE(psql.stderr_text().find("credentials of rex were revoked"), std::string::npos)
      << psql.stderr_text();
  auto again = gateway_->psql("rex", token, {"-c", "select 1"});
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.stderr_text.find("credentials of \"rex\" were revoked"), std::string::npos)
      << again.stderr_text;
  // A credential issued after the revocation works again. Tokens carry their issue time in
  // whole seconds, refused up to the revocation's time: issue once the clock is past the
  // second the revocation happened in.
  const auto next_second =
      std::chrono::floor<std::chrono::seconds>(after_revocation) + std::chrono::seconds(1);
  while (std::chrono::system_clock::now() < next_second) std::this_thread::sleep_for(20ms);
  const std::string fresh = gateway_->token_for("rex", "dba");
  auto fresh_run = gateway_->psql("rex", fresh, {"-c", "select 1"});
  EXPECT_TRUE(fresh_run.ok()) << fresh_run.describe();
}

TEST_F(ReviewTest, JustInTimeAccessWorksUntilItExpires) {
  const std::string token = gateway_->token_for("cora", "contractors");
  auto refused = gateway_->psql("cora", token, {"-c", "select 1"});
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.stderr_text.find("needs an approved access request"), std::string::npos)
      << refused.stderr_text;

  auto requested =
      call_api(gateway_->http_port(), http::verb::post, "/api/v1/access-requests", token,
               R"({"connection": "app-db", "duration": "10s", "reason": "INC-7"})");
  ASSERT_EQ(requested.status, 201u) << json::serialize(requested.body);
  const std::string id(requested.body.at("id").as_string());
  EXPECT_EQ(requested.body.at("kind").as_string(), "access");
  auto too_long = call_api(gateway_->http_port(), http::verb::post, "/api/v1/access-requests",
                           token, R"({"connection": "app-db", "duration": "2h", "reason": "x"})");
  EXPECT_EQ(too_long.status, 400u);
  // Not yet approved: still refused.
  EXPECT_FALSE(gateway_->psql("cora", token, {"-c", "select 1"}).ok());
  ASSERT_TRUE(review("approve", id, *lee_).ok());

  auto session =
      start_psql("cora", token, {"-c", "select count(*) from items", "-c", "select pg_sleep(30)"});
  EXPECT_TRUE(session.wait_for_output("10", 10s)) << session.stderr_text();
  // The grant runs out ten seconds after the approval: the live session is ended.
  const auto status = session.wait(40s);
  EXPECT_FALSE(status.timed_out);
  EXPECT_NE(session.stderr_text().find("just-in-time access to \"app-db\" has expired"),
            std::string::npos)
      << session.stderr_text();
  auto after = gateway_->psql("cora", token, {"-c", "select 1"});
  EXPECT_FALSE(after.ok());
}

TEST_F(ReviewTest, MetricsCountVerdictsAndPendingReviews) {
  auto metrics = call_api(gateway_->http_port(), http::verb::get, "/metrics", "");
  const std::string text = metrics.body.is_string() ? std::string(metrics.body.as_string()) : "";
  EXPECT_NE(text.find("portcullis_commands_total{verdict=\"allow\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("portcullis_decision_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
  EXPECT_NE(text.find("portcullis_reviews_pending"), std::string::npos);
  EXPECT_NE(text.find("portcullis_sessions_active{protocol=\"postgres\"}"), std::string::npos);
}

// A short wait: the statement times out, the review stays pending; approved afterwards, the
// same statement from the same subject runs once.
class ReviewTimeoutTest : public ReviewTest {
 protected:
  static void SetUpTestSuite() {
    ReviewTest::SetUpTestSuite();
    if (!gateway_->reload(options("2s"))) throw std::runtime_error("the gateway did not reload");
  }
};

TEST_F(ReviewTimeoutTest, TimedOutThenRunOnceAfterApproval) {
  auto held = gateway_->psql("dan", *dan_, {"-c", "delete from items"});
  EXPECT_FALSE(held.ok());
  EXPECT_NE(held.stderr_text.find("was not decided within 2s; it stays pending"), std::string::npos)
      << held.stderr_text;
  EXPECT_EQ(count_items(), "10\n");
  const auto id = wait_for_pending("dan", "delete from items");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(review("approve", id, *lee_).ok());
  auto rerun = gateway_->psql("dan", *dan_, {"-c", "delete from items"});
  EXPECT_TRUE(rerun.ok()) << rerun.describe();
  EXPECT_EQ(count_items(), "0\n");
  // Once: the next identical statement is held again (and times out).
  postgres_->psql_superuser("insert into items values (1, 'one')");
  auto third = gateway_->psql("dan", *dan_, {"-c", "delete from items"});
  EXPECT_FALSE(third.ok());
  EXPECT_EQ(count_items(), "1\n");
}

}  // namespace
}  // namespace portcullis::testing
