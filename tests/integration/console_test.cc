// The web console end to end: the endpoints it relies on (who am I, reviews with what the caller
// may decide, the live review stream, journal paging and an event's detail) against the real
// gateway and PostgreSQL, then Debian's Chromium driven through the pages by playwright-core
// (tests/console/console_driver.mjs): sign in, approve a statement psql is held on and psql gets
// its result, reject with a comment, kill a live session, search the journal and open an event,
// a non-reviewer sees no approve button and a forged request is refused. Screenshots of each page
// are kept in the build folder (console-screenshots/).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "api_call.h"
#include "gateway_fixture.h"
#include "ssh_gateway.h"
#include "support/postgres_server.h"
#include "support/sshd_server.h"

namespace portcullis::testing {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kConsoleAccess =
    "access:\n"
    "  - name: dba\n"
    "    who: { groups: [dba] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read, write, ddl, dcl, admin]\n"
    "  - name: leads-read\n"
    "    who: { groups: [leads] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read]\n"
    "  - name: contractors-on-request\n"
    "    who: { groups: [contractors] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read]\n"
    "    requires_request: true\n"
    "    reviewers: { groups: [leads] }\n"
    "    max_duration: 1h\n";

constexpr const char* kConsoleGuardrails =
    "guardrails:\n"
    "  - name: unbounded-writes-need-approval\n"
    "    when: { statements: [delete, update], where: absent }\n"
    "    action: review\n"
    "    reviewers: { groups: [leads] }\n"
    "    wait: 120s\n";

// A Server-Sent Events response read as it arrives, over a plain socket.
class EventStream {
 public:
  EventStream(uint16_t port, const std::string& path, const std::string& token) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("cannot connect to the API");
    const std::string request = fmt::format(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n"
        "Accept: text/event-stream\r\n\r\n",
        path, token);
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size()))
      throw std::runtime_error("cannot send the request");
  }
  ~EventStream() { ::close(fd_); }
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // The data of the next event named `name` whose data satisfies `accept`, or nullopt when
  // none arrives within `timeout`.
  template <class Accept>
  std::optional<std::string> next(const std::string& name, Accept accept,
                                  std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      // Every whole event received so far, in order.
      for (auto end = received_.find("\n\n", consumed_); end != std::string::npos;
           end = received_.find("\n\n", consumed_)) {
        const std::string event = received_.substr(consumed_, end - consumed_);
        consumed_ = end + 2;
        std::string event_name = "message";
        std::string data;
        std::istringstream lines(event);
        for (std::string line; std::getline(lines, line);) {
          if (line.rfind("event: ", 0) == 0) event_name = line.substr(7);
          if (line.rfind("data: ", 0) == 0) data += line.substr(6);
        }
        if (event_name == name && accept(data)) return data;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      pollfd ready{fd_, POLLIN, 0};
      if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[8192];
      const auto got = ::recv(fd_, chunk, sizeof chunk, 0);
      if (got <= 0) return std::nullopt;
      received_.append(chunk, static_cast<std::size_t>(got));
      // The response's head ends the first "event".
      if (!head_done_) {
        if (auto end = received_.find("\r\n\r\n"); end != std::string::npos) {
          head_ = received_.substr(0, end);
          received_.erase(0, end + 4);
          head_done_ = true;
        }
      }
    }
  }
  const std::string& head() const { return head_; }

 private:
  int fd_ = -1;
  std::string received_;
  std::size_t consumed_ = 0;
  bool head_done_ = false;
  std::string head_;
};

class ConsoleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    GatewayOptions o;
    o.http_listener = true;
    o.api_section = "api:\n  admin_groups: [platform-admins]\n  auditor_groups: [security]\n";
    o.access_section = kConsoleAccess;
    o.guardrails_section = kConsoleGuardrails;
    gateway_ = new GatewayProcess(*postgres_, o);
    dan_ = new std::string(gateway_->token_for("dan", "dba"));
    lee_ = new std::string(gateway_->token_for("lee", "leads"));
    ada_ = new std::string(gateway_->token_for("ada", "platform-admins"));
    sam_ = new std::string(gateway_->token_for("sam", "security"));
  }
  static void TearDownTestSuite() {
    delete sam_;
    delete ada_;
    delete lee_;
    delete dan_;
    delete gateway_;
    delete postgres_;
  }

  void SetUp() override {
    auto setup = postgres_->psql_superuser(
        "drop table if exists items; create table items (id int primary key, name text);"
        "insert into items select g, 'item ' || g from generate_series(1, 10) g;"
        "alter table items owner to " +
        postgres_->scram_role().name + ";");
    ASSERT_TRUE(setup.ok()) << setup.describe();
  }

  static uint16_t api_port() { return gateway_->http_port(); }

  static ApiResponse get(const std::string& target, const std::string& token) {
    return call_api(api_port(), http::verb::get, target, token);
  }

  // psql through the gateway, running in the background.
  static ChildProcess start_psql(const std::string& user, const std::string& token,
                                 std::vector<std::string> args) {
    ChildOptions child;
    child.argv = {pg_bin("psql").string(), "-X", "-v", "ON_ERROR_STOP=1",
                  gateway_->conninfo(user, "")};
    child.argv.insert(child.argv.end(), args.begin(), args.end());
    child.env = {{"PGPASSWORD", token}, {"PGCONNECT_TIMEOUT", "10"}};
    child.unset_env = {"PGSSLMODE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"};
    return ChildProcess(std::move(child));
  }

  static std::string count_items() {
    return postgres_->psql_superuser("select count(*) from items").stdout_text;
  }

  // The statement events whose command contains `text`, as an auditor's search shows them.
  static json::array search(const std::string& query) {
    const auto give_up = std::chrono::steady_clock::now() + 15s;
    for (;;) {
      auto found = get("/api/v1/audit?" + query, *sam_);
      if (found.status == 200u && !found.body.at("events").as_array().empty())
        return found.body.at("events").as_array();
      if (std::chrono::steady_clock::now() > give_up) return {};
      std::this_thread::sleep_for(100ms);
    }
  }

  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static std::string* dan_;
  static std::string* lee_;
  static std::string* ada_;
  static std::string* sam_;
};

PostgresServer* ConsoleTest::postgres_ = nullptr;
GatewayProcess* ConsoleTest::gateway_ = nullptr;
std::string* ConsoleTest::dan_ = nullptr;
std::string* ConsoleTest::lee_ = nullptr;
std::string* ConsoleTest::ada_ = nullptr;
std::string* ConsoleTest::sam_ = nullptr;

TEST_F(ConsoleTest, MeNamesTheCallerAndItsRoles) {
  auto lee = get("/api/v1/me", *lee_);
  ASSERT_EQ(lee.status, 200u) << lee.text;
  EXPECT_EQ(lee.body.at("subject").as_string(), "lee");
  EXPECT_EQ(lee.body.at("groups").as_array(), (json::array{"leads"}));
  EXPECT_FALSE(lee.body.at("roles").at("admin").as_bool());
  EXPECT_FALSE(lee.body.at("roles").at("auditor").as_bool());
  auto ada = get("/api/v1/me", *ada_);
  ASSERT_EQ(ada.status, 200u) << ada.text;
  EXPECT_TRUE(ada.body.at("roles").at("admin").as_bool());
  auto sam = get("/api/v1/me", *sam_);
  EXPECT_TRUE(sam.body.at("roles").at("auditor").as_bool());
  EXPECT_EQ(get("/api/v1/me", "not-a-token").status, 401u);
  EXPECT_EQ(get("/api/v1/me", "").status, 401u);
}

// `may_decide` says what the vote endpoint would take: the rule's reviewer yes; the requester,
// an auditor who may read it and an admin outside the rule no.
TEST_F(ConsoleTest, ReviewsSayWhetherTheCallerMayDecide) {
  auto psql = start_psql("dan", *dan_, {"-c", "update items set name = 'x'"});
  const auto id = pending_review_id(api_port(), *lee_, "dan", "update items set name");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  auto as_lee = get("/api/v1/reviews/" + id, *lee_);
  ASSERT_EQ(as_lee.status, 200u) << as_lee.text;
  EXPECT_TRUE(as_lee.body.at("may_decide").as_bool());
  for (const auto* token : {dan_, sam_, ada_}) {
    auto shown = get("/api/v1/reviews/" + id, *token);
    ASSERT_EQ(shown.status, 200u) << shown.text;
    EXPECT_FALSE(shown.body.at("may_decide").as_bool()) << shown.text;
  }
  auto listed = get("/api/v1/reviews?status=pending", *lee_);
  ASSERT_EQ(listed.status, 200u);
  bool found = false;
  for (const auto& review : listed.body.at("reviews").as_array())
    if (review.at("id").as_string() == id) found = review.at("may_decide").as_bool();
  EXPECT_TRUE(found) << listed.text;

  // Rejected, nobody may decide it any more.
  auto rejected = call_api(api_port(), http::verb::post, "/api/v1/reviews/" + id + "/reject", *lee_,
                           R"({"comment":"not now"})");
  ASSERT_EQ(rejected.status, 200u) << rejected.text;
  EXPECT_FALSE(rejected.body.at("may_decide").as_bool());
  EXPECT_FALSE(psql.wait(30s).success());
  EXPECT_EQ(count_items(), "10\n");
}

// The stream sends the pending list at once, the held statement when it is held, and the list
// without it once decided; the requester's stream shows its own review, never as decidable.
TEST_F(ConsoleTest, ReviewStreamFollowsHoldsAndDecisions) {
  EventStream lee(api_port(), "/api/v1/reviews/stream", *lee_);
  auto first = lee.next(
      "reviews", [](const std::string&) { return true; }, 10s);
  ASSERT_TRUE(first.has_value());
  EXPECT_NE(lee.head().find("text/event-stream"), std::string::npos) << lee.head();
  EventStream dan(api_port(), "/api/v1/reviews/stream", *dan_);
  ASSERT_TRUE(dan.next(
      "reviews", [](const std::string&) { return true; }, 10s));

  auto psql = start_psql("dan", *dan_, {"-c", "delete from items"});
  auto held = lee.next(
      "reviews",
      [](const std::string& data) { return data.find("delete from items") != std::string::npos; },
      20s);
  ASSERT_TRUE(held.has_value()) << psql.stderr_text();
  const auto review = json::parse(*held).at("reviews").as_array().at(0).as_object();
  const std::string id(review.at("id").as_string());
  EXPECT_TRUE(review.at("may_decide").as_bool());
  auto own = dan.next(
      "reviews", [&](const std::string& data) { return data.find(id) != std::string::npos; }, 20s);
  ASSERT_TRUE(own.has_value());
  EXPECT_FALSE(json::parse(*own).at("reviews").at(0).at("may_decide").as_bool());

  auto approved = call_api(api_port(), http::verb::post, "/api/v1/reviews/" + id + "/approve",
                           *lee_, R"({"comment":"ok"})");
  ASSERT_EQ(approved.status, 200u) << approved.text;
  auto after = lee.next(
      "reviews", [&](const std::string& data) { return data.find(id) == std::string::npos; }, 20s);
  EXPECT_TRUE(after.has_value());
  EXPECT_TRUE(psql.wait(30s).success()) << psql.stderr_text();
  EXPECT_EQ(count_items(), "0\n");
  EXPECT_EQ(get("/api/v1/reviews/stream?status=pending", *lee_).status, 400u);
  EXPECT_EQ(get("/api/v1/reviews/stream", "").status, 401u);
}

// Each stream reads the store twice a second: a subject may hold six at once, and a seventh is
// refused with 429 rather than taking the API's connections.
TEST_F(ConsoleTest, ReviewStreamsAreBoundedPerSubject) {
  // A subject of its own: the places this test holds linger until their writes fail.
  const auto rex = gateway_->token_for("rex", "leads");
  std::vector<std::unique_ptr<EventStream>> streams;
  for (int i = 0; i < 6; ++i) {
    streams.push_back(std::make_unique<EventStream>(api_port(), "/api/v1/reviews/stream", rex));
    ASSERT_TRUE(streams.back()->next(
        "reviews", [](const std::string&) { return true; }, 10s))
        << "stream " << i;
  }
  auto refused = get("/api/v1/reviews/stream", rex);
  EXPECT_EQ(refused.status, 429u) << refused.text;
  EXPECT_NE(refused.text.find("too_many_streams"), std::string::npos) << refused.text;
  // Another subject is not held up by rex's.
  EventStream lee(api_port(), "/api/v1/reviews/stream", *lee_);
  EXPECT_TRUE(lee.next(
      "reviews", [](const std::string&) { return true; }, 10s));
}

// A stream outlives its request: once its subject is revoked, the review stream and the
// journal stream each send an error event and end, within the 5 s between checks.
TEST_F(ConsoleTest, StreamsEndOnceTheirSubjectIsRevoked) {
  const auto ron = gateway_->token_for("ron", "leads");
  const auto zed = gateway_->token_for("zed", "security");
  EventStream reviews(api_port(), "/api/v1/reviews/stream", ron);
  ASSERT_TRUE(reviews.next(
      "reviews", [](const std::string&) { return true; }, 10s));
  EventStream journal(api_port(), "/api/v1/audit/stream", zed);
  // Credentials issued in the second of a revocation are revoked too; these were issued before.
  std::this_thread::sleep_for(1100ms);
  for (const char* subject : {"ron", "zed"}) {
    auto revoked = call_api(api_port(), http::verb::post, "/api/v1/revocations", *ada_,
                            fmt::format(R"({{"subject":"{}","reason":"stream test"}})", subject));
    ASSERT_EQ(revoked.status, 200u) << revoked.text;
  }
  auto unauthorized = [](const std::string& data) {
    return data.find("\"unauthorized\"") != std::string::npos;
  };
  EXPECT_TRUE(reviews.next("error", unauthorized, 15s));
  EXPECT_TRUE(journal.next("error", unauthorized, 15s));
}

// `before` pages back through the matches by their cursor; an event's detail holds the masked
// rows kept for it.
TEST_F(ConsoleTest, JournalPagesBackAndShowsAnEventWithItsKeptRows) {
  for (int page = 1; page <= 3; ++page) {
    auto psql = start_psql("dan", *dan_,
                           {"-c", fmt::format("select 'paging-{}' as mark, n from "
                                              "generate_series(1, 3) n",
                                              page)});
    ASSERT_TRUE(psql.wait(30s).success()) << psql.stderr_text();
  }
  // The searchable index follows the journal by a few milliseconds: all three first.
  const auto give_up = std::chrono::steady_clock::now() + 15s;
  while (search("contains=paging-").size() < 3 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(100ms);
  auto newest = search("contains=paging-&limit=2");
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_NE(json::serialize(newest[0]).find("paging-2"), std::string::npos);
  EXPECT_NE(json::serialize(newest[1]).find("paging-3"), std::string::npos);
  const auto oldest_cursor = newest[0].at("cursor").as_int64();
  auto older = search(fmt::format("contains=paging-&limit=2&before={}", oldest_cursor));
  ASSERT_EQ(older.size(), 1u);
  EXPECT_NE(json::serialize(older[0]).find("paging-1"), std::string::npos);
  EXPECT_EQ(get("/api/v1/audit?before=-4", *sam_).status, 400u);

  const auto cursor = older[0].at("cursor").as_int64();
  ApiResponse detail;
  // The result record (with the kept rows) follows the statement record by a moment.
  for (int attempt = 0; attempt < 100; ++attempt) {
    detail = get(fmt::format("/api/v1/audit/events/{}", cursor), *sam_);
    if (detail.status == 200u && !detail.body.at("results").is_null()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(detail.status, 200u) << detail.text;
  EXPECT_NE(std::string(detail.body.at("event").at("command").as_string()).find("paging-1"),
            std::string::npos);
  EXPECT_EQ(detail.body.at("event").at("rows").as_int64(), 3);
  ASSERT_FALSE(detail.body.at("results").is_null()) << detail.text;
  EXPECT_EQ(detail.body.at("results").at("rows").as_array().size(), 3u) << detail.text;
  EXPECT_EQ(detail.body.at("results").at("columns"), (json::array{"mark", "n"}));
  EXPECT_EQ(get("/api/v1/audit/events/999999999", *sam_).status, 404u);
  EXPECT_EQ(get(fmt::format("/api/v1/audit/events/{}", cursor), *lee_).status, 403u);
}

// The page and its files come with a policy that lets only the console's own files run.
TEST_F(ConsoleTest, ServesThePageWithAStrictContentSecurityPolicy) {
  auto page = get("/", "");
  if (page.status == 404u && page.text.find("console_not_built") != std::string::npos)
    GTEST_SKIP() << "this gateway was built without its web console (no Node.js at build time)";
  ASSERT_EQ(page.status, 200u) << page.text;
  EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
  const auto& policy = page.headers["content-security-policy"];
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("script-src 'self' 'wasm-unsafe-eval';"), std::string::npos) << policy;
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("'unsafe-eval'"), std::string::npos) << policy;
  EXPECT_EQ(page.headers["x-frame-options"], "DENY");
  EXPECT_EQ(page.headers["cache-control"], "no-cache");
  // No inline script: every script is a file of the console's own.
  EXPECT_EQ(page.text.find("<script>"), std::string::npos) << page.text;
  std::smatch script;
  ASSERT_TRUE(std::regex_search(page.text, script, std::regex(R"re(src="(/assets/[^"]+\.js)")re")))
      << page.text;
  auto code = get(script[1].str(), "");
  ASSERT_EQ(code.status, 200u);
  EXPECT_EQ(code.headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_NE(code.headers["cache-control"].find("immutable"), std::string::npos);
  EXPECT_EQ(get("/assets/missing.js", "").status, 404u);
  EXPECT_EQ(get("/index.html.bak", "").status, 404u);
  auto config = get("/api/v1/console/config", "");
  ASSERT_EQ(config.status, 200u);
  EXPECT_TRUE(config.body.at("oidc").as_array().empty());
}

// ---- in the browser ------------------------------------------------------------------------

// Why the browser tests cannot run here, or empty when they can.
std::string browser_missing() {
  const auto driver = std::filesystem::path(PORTCULLIS_SOURCE_DIR) / "tests/console";
  if (!std::filesystem::exists("/usr/bin/chromium"))
    return "Chromium is not installed (scripts/setup.sh installs Debian's chromium)";
  if (!std::filesystem::exists(driver / "node_modules/playwright-core"))
    return "playwright-core is not installed: run scripts/setup.sh (npm ci in tests/console)";
  return {};
}

// Runs the steps in Chromium against the gateway at `url`; the printed lines by their tags.
// Fails the test, with the driver's report and screenshot name, when a step fails.
std::map<std::string, json::object> run_browser_at(const std::string& url,
                                                   const json::array& steps) {
  ChildOptions options;
  options.argv = {
      "node",
      (std::filesystem::path(PORTCULLIS_SOURCE_DIR) / "tests/console/console_driver.mjs").string(),
      "--url",
      url,
      "--screenshots",
      (std::filesystem::current_path() / "console-screenshots").string()};
  options.stdin_data = json::serialize(steps);
  ChildProcess driver(std::move(options));
  const auto status = driver.wait(120s);
  std::map<std::string, json::object> by_tag;
  bool done = false;
  std::istringstream lines(driver.stdout_text());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    auto parsed = json::parse(line).as_object();
    if (parsed.contains("tag")) by_tag[std::string(parsed.at("tag").as_string())] = parsed;
    if (parsed.contains("op") && parsed.at("op") == "done") done = true;
    if (parsed.contains("op") && parsed.at("op") == "failed")
      ADD_FAILURE() << "the browser step failed: " << line;
  }
  EXPECT_TRUE(done && status.success())
      << status.describe() << driver.stdout_text() << driver.stderr_text();
  return by_tag;
}

class ConsoleBrowserTest : public ConsoleTest {
 protected:
  void SetUp() override {
    if (auto missing = browser_missing(); !missing.empty()) GTEST_SKIP() << missing;
    auto page = get("/", "");
    if (page.status != 200u)
      GTEST_SKIP() << "this gateway was built without its web console (no Node.js at build time)";
    ConsoleTest::SetUp();
  }

  // Runs the steps in Chromium; the printed lines by their tags. Fails the test, with the
  // driver's report and screenshot name, when a step fails.
  static std::map<std::string, json::object> run_browser(const json::array& steps) {
    return run_browser_at(fmt::format("http://127.0.0.1:{}", api_port()), steps);
  }

  static json::object step(std::string op, json::object fields = {}) {
    fields["op"] = std::move(op);
    return fields;
  }
  static json::object sign_in(const std::string& token) {
    return step("sign_in", {{"token", token}});
  }
  static json::object on(std::string op, std::string testid, json::object fields = {}) {
    fields["testid"] = std::move(testid);
    return step(std::move(op), std::move(fields));
  }

  // The page showed no script error, console error or policy violation.
  static void expect_no_problems(std::map<std::string, json::object>& by_tag) {
    ASSERT_TRUE(by_tag.contains("problems"));
    EXPECT_TRUE(by_tag["problems"].at("problems").as_array().empty())
        << json::serialize(by_tag["problems"]);
  }

  // The id of a live session of `subject`, once there is one.
  static std::string session_of(const std::string& subject) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    for (;;) {
      auto listed = get("/api/v1/sessions", *ada_);
      if (listed.status == 200u)
        for (const auto& s : listed.body.at("sessions").as_array())
          if (s.at("subject").as_string() == subject) return std::string(s.at("id").as_string());
      if (std::chrono::steady_clock::now() > give_up) return {};
      std::this_thread::sleep_for(100ms);
    }
  }
};

// A reviewer approves in the page the statement psql is held on; psql then gets its result.
TEST_F(ConsoleBrowserTest, ApprovesAHeldStatementAndPsqlGetsItsResult) {
  auto psql = start_psql("dan", *dan_, {"-c", "delete from items"});
  const auto id = pending_review_id(api_port(), *lee_, "dan", "delete from items");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  auto by_tag = run_browser(json::array{
      step("open", {{"path", "/"}}),
      on("wait", "token"),
      step("screenshot", {{"name", "sign-in"}}),
      sign_in(*lee_),
      on("wait", "review-" + id),
      on("wait_text", "review-" + id, {{"text", "delete from items"}}),
      on("wait", "live-status"),
      step("screenshot", {{"name", "reviews"}}),
      on("fill", "comment-" + id, {{"value", "cleanup agreed in INC-42"}}),
      on("click", "approve-" + id),
      on("wait_gone", "review-" + id),
      step("problems", {{"tag", "problems"}}),
  });
  expect_no_problems(by_tag);
  const auto status = psql.wait(30s);
  EXPECT_TRUE(status.success()) << status.describe() << psql.stderr_text();
  EXPECT_NE(psql.stdout_text().find("DELETE 10"), std::string::npos) << psql.stdout_text();
  EXPECT_EQ(count_items(), "0\n");
  auto shown = get("/api/v1/reviews/" + id, *lee_);
  EXPECT_EQ(shown.body.at("decided_by").as_string(), "lee");
  EXPECT_EQ(shown.body.at("comment").as_string(), "cleanup agreed in INC-42");
}

// Markup in a statement is shown as text: the reviewer's page runs none of it (the policy would
// stop inline script too, but the page never makes the text markup).
TEST_F(ConsoleBrowserTest, MarkupInAStatementIsShownAsText) {
  const std::string payload =
      "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=2</script>";
  auto psql = start_psql("dan", *dan_, {"-c", "delete from items /* " + payload + " */"});
  const auto id = pending_review_id(api_port(), *lee_, "dan", "delete from items /*");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  auto by_tag = run_browser(json::array{
      step("open", {{"path", "/"}}),
      sign_in(*lee_),
      on("wait_text", "review-" + id, {{"text", "<script>window.pwned=2</script>"}}),
      step("global", {{"name", "pwned"}, {"tag", "pwned"}}),
      on("count", "review-" + id, {{"selector", "img[src=x]"}, {"tag", "images"}}),
      step("problems", {{"tag", "problems"}}),
  });
  expect_no_problems(by_tag);
  EXPECT_EQ(by_tag["pwned"].at("type").as_string(), "undefined");
  EXPECT_EQ(by_tag["images"].at("count").as_int64(), 0);
  auto rejected = call_api(api_port(), http::verb::post, "/api/v1/reviews/" + id + "/reject", *lee_,
                           R"({"comment":"no"})");
  EXPECT_EQ(rejected.status, 200u);
  EXPECT_FALSE(psql.wait(30s).success());
}

TEST_F(ConsoleBrowserTest, RejectsWithAComment) {
  auto psql = start_psql("dan", *dan_, {"-c", "update items set name = 'gone'"});
  const auto id = pending_review_id(api_port(), *lee_, "dan", "update items set name");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  auto by_tag = run_browser(json::array{
      step("open", {{"path", "/"}}),
      sign_in(*lee_),
      on("fill", "comment-" + id, {{"value", "add a where clause"}}),
      on("click", "reject-" + id),
      on("wait_gone", "review-" + id),
      step("problems", {{"tag", "problems"}}),
  });
  expect_no_problems(by_tag);
  EXPECT_FALSE(psql.wait(30s).success());
  EXPECT_NE(psql.stderr_text().find("add a where clause"), std::string::npos) << psql.stderr_text();
  EXPECT_EQ(count_items(), "10\n");
  auto shown = get("/api/v1/reviews/" + id, *lee_);
  EXPECT_EQ(shown.body.at("status").as_string(), "rejected");
}

// The requester sees its own review but no approve button; the API refuses the vote the page
// does not offer, and a page of another origin cannot vote with the browser's credentials.
TEST_F(ConsoleBrowserTest, NonReviewerSeesNoApproveButtonAndForgedVotesAreRefused) {
  auto psql = start_psql("dan", *dan_, {"-c", "delete from items"});
  const auto id = pending_review_id(api_port(), *lee_, "dan", "delete from items");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  const std::string approve = "/api/v1/reviews/" + id + "/approve";
  auto by_tag = run_browser(json::array{
      step("open", {{"path", "/"}}),
      sign_in(*dan_),
      on("wait", "review-" + id),
      on("count", "approve-" + id, {{"tag", "approve-buttons"}}),
      on("count", "reject-" + id, {{"tag", "reject-buttons"}}),
      step("fetch", {{"tag", "self-approval"},
                     {"method", "POST"},
                     {"path", approve},
                     {"token", *dan_},
                     {"body", json::object{{"comment", "me"}}}}),
      step("fetch", {{"tag", "no-token"}, {"method", "POST"}, {"path", approve}}),
      step("forge", {{"tag", "forged"},
                     {"origin", fmt::format("http://localhost:{}", api_port())},
                     {"path", approve}}),
      step("screenshot", {{"name", "reviews-requester"}}),
  });
  EXPECT_EQ(by_tag["approve-buttons"].at("count").as_int64(), 0);
  EXPECT_EQ(by_tag["reject-buttons"].at("count").as_int64(), 0);
  EXPECT_EQ(by_tag["self-approval"].at("status").as_int64(), 403);
  EXPECT_EQ(by_tag["no-token"].at("status").as_int64(), 401);
  // Whatever the browser let the other page see, the review is still pending.
  EXPECT_NE(by_tag["forged"].at("status").as_int64(), 200);
  EXPECT_EQ(get("/api/v1/reviews/" + id, *lee_).body.at("status").as_string(), "pending");
  EXPECT_TRUE(psql.running());
  auto rejected = call_api(api_port(), http::verb::post, "/api/v1/reviews/" + id + "/reject", *lee_,
                           R"({"comment":"cleanup"})");
  EXPECT_EQ(rejected.status, 200u);
  EXPECT_FALSE(psql.wait(30s).success());
}

TEST_F(ConsoleBrowserTest, KillsALiveSession) {
  // A subject of its own: no session of another test can be taken for this one.
  auto psql = start_psql("kim", gateway_->token_for("kim", "dba"), {"-c", "select pg_sleep(60)"});
  const auto id = session_of("kim");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  auto by_tag = run_browser(json::array{
      step("open", {{"path", "/"}}),
      sign_in(*ada_),
      step("goto", {{"hash", "#/sessions"}}),
      on("wait", "session-" + id),
      step("screenshot", {{"name", "sessions"}}),
      on("click", "kill-" + id),
      on("wait_gone", "session-" + id),
      step("problems", {{"tag", "problems"}}),
  });
  expect_no_problems(by_tag);
  const auto status = psql.wait(30s);
  EXPECT_FALSE(status.success());
  EXPECT_NE(psql.stderr_text().find("terminating connection"), std::string::npos)
      << psql.stderr_text();
}

// A contractor asks for access in the page; a lead approves it in the page; psql then connects.
TEST_F(ConsoleBrowserTest, AsksForAccessAndALeadApprovesIt) {
  const auto carl = gateway_->token_for("carl", "contractors");
  auto refused = start_psql("carl", carl, {"-c", "select count(*) from items"});
  EXPECT_FALSE(refused.wait(30s).success()) << refused.stdout_text();
  auto asked = run_browser(json::array{
      step("open", {{"path", "/"}}),
      sign_in(carl),
      step("goto", {{"hash", "#/access"}}),
      on("fill", "access-connection", {{"value", "app-db"}}),
      on("fill", "access-duration", {{"value", "30m"}}),
      on("fill", "access-reason", {{"value", "INC-7: count the items"}}),
      on("click", "access-submit"),
      on("wait", "access-result"),
      on("text", "access-result", {{"tag", "result"}}),
      step("screenshot", {{"name", "access-requested"}}),
      step("problems", {{"tag", "problems"}}),
  });
  expect_no_problems(asked);
  std::string id;
  auto listed = get("/api/v1/reviews?status=pending", *lee_);
  ASSERT_EQ(listed.status, 200u) << listed.text;
  for (const auto& review : listed.body.at("reviews").as_array())
    if (review.at("kind") == "access" && review.at("requester") == "carl")
      id = std::string(review.at("id").as_string());
  ASSERT_FALSE(id.empty()) << listed.text << json::serialize(asked["result"]);

  auto approved = run_browser(json::array{
      step("open", {{"path", "/"}}),
      sign_in(*lee_),
      step("goto", {{"hash", "#/access"}}),
      on("wait_text", "review-" + id, {{"text", "INC-7: count the items"}}),
      on("fill", "comment-" + id, {{"value", "for the incident"}}),
      on("click", "approve-" + id),
      on("wait_gone", "review-" + id),
      step("problems", {{"tag", "problems"}}),
  });
  expect_no_problems(approved);
  EXPECT_EQ(get("/api/v1/reviews/" + id, *lee_).body.at("status").as_string(), "approved");
  auto granted = start_psql("carl", carl, {"-At", "-c", "select count(*) from items"});
  EXPECT_TRUE(granted.wait(30s).success()) << granted.stderr_text();
  EXPECT_EQ(granted.stdout_text(), "10\n");
}

// An auditor searches the journal, opens the event and sees its kept rows; then the
// verification, overview and access pages (screenshots of each).
TEST_F(ConsoleBrowserTest, SearchesTheJournalAndOpensAnEvent) {
  auto psql = start_psql("dan", *dan_,
                         {"-c", "select 'console-mark' as mark, n from generate_series(1, 4) n"});
  ASSERT_TRUE(psql.wait(30s).success()) << psql.stderr_text();
  auto found = search("contains=console-mark");
  ASSERT_EQ(found.size(), 1u);
  const auto seq = found[0].at("seq").as_int64();
  const std::string row = fmt::format("event-{}", seq);
  // The page reads the event once: its result record, with the kept rows, must be in first.
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto detail =
        get(fmt::format("/api/v1/audit/events/{}", found[0].at("cursor").as_int64()), *sam_);
    if (detail.status == 200u && !detail.body.at("results").is_null()) break;
    std::this_thread::sleep_for(100ms);
  }
  auto by_tag = run_browser(json::array{
      step("open", {{"path", "/"}}),
      sign_in(*sam_),
      step("goto", {{"hash", "#/journal"}}),
      on("fill", "filter-contains", {{"value", "console-mark"}}),
      on("click", "search"),
      on("wait", row),
      step("screenshot", {{"name", "journal"}}),
      on("click", row),
      on("wait_text", "event-detail", {{"text", "console-mark"}}),
      on("wait", "event-results"),
      on("text", "event-results", {{"tag", "results"}}),
      step("screenshot", {{"name", "event"}}),
      step("goto", {{"hash", "#/verify"}}),
      on("wait_text", "verify-status", {{"text", "Journal verified"}}),
      step("screenshot", {{"name", "verify"}}),
      step("goto", {{"hash", "#/overview"}}),
      on("wait", "nav-overview"),
      step("screenshot", {{"name", "overview"}}),
      step("goto", {{"hash", "#/access"}}),
      on("wait", "access-connection"),
      step("screenshot", {{"name", "access"}}),
      step("problems", {{"tag", "problems"}}),
  });
  expect_no_problems(by_tag);
  EXPECT_NE(std::string(by_tag["results"].at("text").as_string()).find("console-mark"),
            std::string::npos)
      << json::serialize(by_tag["results"]);
}

// An SSH shell recorded through the gateway, played back in the page: what the terminal showed,
// masked.
TEST(ConsoleReplayTest, PlaysBackARecordedShellMasked) {
  if (auto missing = browser_missing(); !missing.empty()) GTEST_SKIP() << missing;
  SshdServer sshd;
  SshGatewayOptions options;
  options.access_section =
      "access:\n"
      "  - name: ops\n"
      "    who: { groups: [ops] }\n"
      "    connections: [web]\n"
      "    allow: [exec, shell]\n"
      "    masking: pii\n";
  options.extra_sections = "api:\n  auditor_groups: [security]\n";
  SshGateway gateway(sshd, options);
  if (call_api(gateway.http_port(), http::verb::get, "/", "").status != 200u)
    GTEST_SKIP() << "this gateway was built without its web console (no Node.js at build time)";
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  const auto shell =
      gateway.shell(key, {{"echo replay-$((6*7))\r"}, {"echo ssn 123-45-6789\r"}, {"exit\r", 0.3}});
  ASSERT_EQ(shell.exit_code, 0) << shell.describe();
  const auto auditor = gateway.token_for("sam", "security");
  std::string session;
  for (int attempt = 0; attempt < 100 && session.empty(); ++attempt) {
    auto found = call_api(gateway.http_port(), http::verb::get,
                          "/api/v1/audit?contains=replay-&limit=1", auditor);
    if (found.status == 200u && !found.body.at("events").as_array().empty())
      session = std::string(found.body.at("events").at(0).at("session").as_string());
    else
      std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(session.empty());

  auto by_tag = run_browser_at(
      gateway.api_url(),
      json::array{
          json::object{{"op", "open"}, {"path", "/"}},
          json::object{{"op", "sign_in"}, {"token", auditor}},
          json::object{{"op", "goto"}, {"hash", "#/replay/" + session}},
          json::object{{"op", "wait"}, {"testid", "replay"}},
          json::object{{"op", "click"}, {"selector", ".ap-player"}},
          json::object{{"op", "wait_text"}, {"testid", "replay"}, {"text", "[us_ssn]"}},
          json::object{{"op", "text"}, {"testid", "replay"}, {"tag", "terminal"}},
          json::object{{"op", "screenshot"}, {"name", "replay"}},
          json::object{{"op", "problems"}, {"tag", "problems"}},
      });
  const std::string terminal(by_tag["terminal"].at("text").as_string());
  EXPECT_NE(terminal.find("replay-42"), std::string::npos) << terminal;
  EXPECT_EQ(terminal.find("123-45-6789"), std::string::npos) << terminal;
  EXPECT_TRUE(by_tag["problems"].at("problems").as_array().empty())
      << json::serialize(by_tag["problems"]);
}

// Sign-in through an OpenID provider (a stand-in: tests/console/stand_in_idp.mjs): the console
// runs the authorization-code flow with PKCE and uses the ID token as its bearer credential.
TEST(ConsoleOidcTest, SignsInThroughTheProviderWithPkce) {
  if (auto missing = browser_missing(); !missing.empty()) GTEST_SKIP() << missing;
  TempDir dir("portcullis-idp-");
  const auto jwks = dir.path() / "jwks.json";
  ChildOptions idp_options;
  idp_options.argv = {
      "node",
      (std::filesystem::path(PORTCULLIS_SOURCE_DIR) / "tests/console/stand_in_idp.mjs").string(),
      "--client-id",
      "portcullis-console",
      "--jwks-file",
      jwks.string(),
      "--subject",
      "lee",
      "--groups",
      "leads"};
  ChildProcess idp(std::move(idp_options));
  ASSERT_TRUE(idp.wait_for_output("{\"port\":", 20s)) << idp.stderr_text();
  std::smatch port_match;
  const std::string first_line = idp.stdout_text();
  ASSERT_TRUE(std::regex_search(first_line, port_match, std::regex(R"re("port":(\d+))re")));
  const std::string issuer = fmt::format("http://127.0.0.1:{}/", port_match[1].str());

  PostgresServer postgres;
  GatewayOptions o;
  o.http_listener = true;
  o.access_section = kConsoleAccess;
  o.identity_extra = fmt::format(
      "  oidc:\n    - issuer: {}\n      audience: portcullis-console\n      jwks_file: {}\n"
      "      groups_claim: groups\n      console: true\n",
      issuer, jwks.string());
  GatewayProcess gateway(postgres, o);
  if (call_api(gateway.http_port(), http::verb::get, "/", "").status != 200u)
    GTEST_SKIP() << "this gateway was built without its web console (no Node.js at build time)";

  auto config = call_api(gateway.http_port(), http::verb::get, "/api/v1/console/config", "");
  ASSERT_EQ(config.status, 200u) << config.text;
  ASSERT_EQ(config.body.at("oidc").as_array().size(), 1u) << config.text;
  EXPECT_EQ(config.body.at("oidc").at(0).at("issuer").as_string(), issuer);
  EXPECT_EQ(config.body.at("oidc").at(0).at("client_id").as_string(), "portcullis-console");
  auto page = call_api(gateway.http_port(), http::verb::get, "/", "");
  EXPECT_NE(page.headers["content-security-policy"].find(
                fmt::format("connect-src 'self' http://127.0.0.1:{};", port_match[1].str())),
            std::string::npos)
      << page.headers["content-security-policy"];

  auto by_tag =
      run_browser_at(fmt::format("http://127.0.0.1:{}", gateway.http_port()),
                     json::array{
                         json::object{{"op", "open"}, {"path", "/"}},
                         json::object{{"op", "click"}, {"testid", "sign-in-oidc"}},
                         json::object{{"op", "wait_text"}, {"testid", "whoami"}, {"text", "lee"}},
                         json::object{{"op", "problems"}, {"tag", "problems"}},
                     });
  EXPECT_TRUE(by_tag["problems"].at("problems").as_array().empty())
      << json::serialize(by_tag["problems"]) << idp.stdout_text();
  EXPECT_NE(idp.stdout_text().find("{\"issued\":\"lee\"}"), std::string::npos) << idp.stdout_text();
  EXPECT_EQ(idp.stdout_text().find("refused"), std::string::npos) << idp.stdout_text();
}

}  // namespace
}  // namespace portcullis::testing
