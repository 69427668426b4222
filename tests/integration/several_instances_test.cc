// End to end: two gateway instances sharing one PostgreSQL state store behind a real HAProxy —
// the journal of both seen from either, a statement held on one instance approved through the
// other, a revocation or a kill on one ending a session on the other, one instance killed under
// load while clients carry on through the other, and the shared store stopped and restarted.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api_call.h"
#include "gateway_fixture.h"
#include "support/haproxy_server.h"
#include "support/pg_wire_client.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace portcullis::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What the operations contract promises, and what the tests hold the gateway to.
// A revocation on one instance ends the subject's sessions on every other one within this.
constexpr auto kRevocationBound = 1000ms;
// After an instance dies, new connections through the balancer succeed again within this.
constexpr auto kFailoverBound = 2s;
// The balancer takes a dead instance out within this (two failed 500 ms probes, and slack).
constexpr auto kMarkedDownBound = 2s;
// An instance reports the shared store unreachable within this, and ready again within
// kStoreBackBound of the store answering.
constexpr auto kStoreGoneBound = 2s;
constexpr auto kStoreBackBound = 5s;
// A vote cast on another instance releases a held statement within this.
constexpr auto kReleaseBound = 5s;

constexpr const char* kSeveralInstancesAccess =
    "access:\n"
    "  - name: dba\n"
    "    who: { groups: [dba] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read, write, ddl, dcl, admin]\n";

constexpr const char* kSeveralInstancesGuardrails =
    "guardrails:\n"
    "  - name: unbounded-deletes-need-approval\n"
    "    when: { statements: [delete], where: absent }\n"
    "    action: review\n"
    "    reviewers: { groups: [leads] }\n"
    "    wait: 30s\n";

// The statement records of `audit search --json` (one object a line).
std::vector<json::object> statement_records(const std::string& json_lines) {
  std::vector<json::object> records;
  std::istringstream lines(json_lines);
  for (std::string line; std::getline(lines, line);) {
    boost::system::error_code ec;
    auto value = json::parse(line, ec);
    if (!ec && value.is_object()) records.push_back(std::move(value.as_object()));
  }
  return records;
}

std::string field(const json::object& record, std::string_view name) {
  const auto* value = record.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

// Statement text compared without the whitespace and semicolons that clients and the parser
// place differently.
std::string normalised(std::string_view text) {
  std::string out;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c)) && c != ';') out += c;
  return out;
}

// What the backend logged as run (log_statement = all, log_line_prefix '%u@%d ') by `user`
// in the part of its log from `offset` on; continuation lines joined.
std::vector<std::string> backend_statements(const std::string& log, std::size_t offset,
                                            const std::string& user) {
  std::istringstream lines(offset < log.size() ? log.substr(offset) : std::string());
  std::vector<std::string> statements;
  const std::string prefix = user + "@";
  bool continuing = false;
  for (std::string line; std::getline(lines, line);) {
    if (continuing && !line.empty() && line[0] == '\t') {
      statements.back() += "\n" + line.substr(1);
      continue;
    }
    continuing = false;
    if (!line.starts_with(prefix)) continue;
    const auto logged = line.find("LOG:  statement: ");
    if (logged == std::string::npos) continue;
    statements.push_back(line.substr(logged + 17));
    continuing = true;
  }
  return statements;
}

std::string lowercase(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

long long milliseconds(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

class SeveralInstancesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PostgresOptions logging;
    logging.log_statements = true;
    logging.extra_conf = {"log_line_prefix = '%u@%d '"};
    backend_ = std::make_unique<PostgresServer>(logging);
    store_ = std::make_unique<PostgresServer>();
    const auto& owner = store_->scram_role();
    state_url_ = fmt::format("postgresql://{}:{}@127.0.0.1:{}/{}", owner.name, owner.password,
                             store_->port(), PostgresServer::kDatabase);

    auto setup = backend_->psql_superuser(
        "create table items (id int primary key, name text);"
        "insert into items select g, 'item ' || g from generate_series(1, 10) g;"
        "alter table items owner to " +
        backend_->scram_role().name + ";");
    ASSERT_TRUE(setup.ok()) << setup.describe();

    gw_a_ = std::make_unique<GatewayProcess>(*backend_, options("gw-a"));
    gw_b_ = std::make_unique<GatewayProcess>(*backend_, options("gw-b"));
    haproxy_ = std::make_unique<HaproxyServer>(std::vector<HaproxyBackendServer>{
        {.name = "gw-a", .port = gw_a_->port(), .health_port = gw_a_->http_port()},
        {.name = "gw-b", .port = gw_b_->port(), .health_port = gw_b_->http_port()}});
    ASSERT_TRUE(haproxy_->wait_for_state("gw-a", "UP")) << haproxy_->log_text();
    ASSERT_TRUE(haproxy_->wait_for_state("gw-b", "UP")) << haproxy_->log_text();

    // Issued through A, accepted by both: they share the signing key.
    dan_ = gw_a_->token_for("dan", "dba");
    lee_ = gw_a_->token_for("lee", "leads");
    admin_ = gw_a_->token_for("ada", "platform-admins");
  }

  void TearDown() override {
    if (HasFailure() && haproxy_) std::cout << "haproxy:\n" << haproxy_->log_text() << "\n";
    haproxy_.reset();
    gw_b_.reset();
    gw_a_.reset();
    store_.reset();
    backend_.reset();
  }

  GatewayOptions options(const std::string& instance) const {
    GatewayOptions o;
    o.http_listener = true;
    o.api_section = "api:\n  admin_groups: [platform-admins]\n";
    o.access_section = kSeveralInstancesAccess;
    o.guardrails_section = kSeveralInstancesGuardrails;
    o.state_url = state_url_;
    o.instance = instance;
    o.signing_key_file = keys_ / "signing.key";
    return o;
  }

  // psql to `port` (an instance or the balancer) as `subject`, run to completion.
  static RunResult psql_to(uint16_t port, const std::string& subject, const std::string& token,
                           const std::string& sql) {
    ChildOptions child;
    child.argv = {pg_bin("psql").string(),          "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                  connection_string(port, subject), "-c", sql};
    child.env = {{"PGPASSWORD", token}, {"PGCONNECT_TIMEOUT", "10"}};
    child.unset_env = {"PGSSLMODE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"};
    return run_command(std::move(child), 60s);
  }

  // psql to `port` running in the background.
  static ChildProcess start_psql(uint16_t port, const std::string& subject,
                                 const std::string& token, const std::string& sql) {
    ChildOptions child;
    child.argv = {pg_bin("psql").string(),          "-X", "-v", "ON_ERROR_STOP=1",
                  connection_string(port, subject), "-c", sql};
    child.env = {{"PGPASSWORD", token}, {"PGCONNECT_TIMEOUT", "10"}};
    child.unset_env = {"PGSSLMODE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"};
    return ChildProcess(std::move(child));
  }

  static std::string connection_string(uint16_t port, const std::string& subject) {
    return fmt::format("host=127.0.0.1 port={} user={} dbname=app-db connect_timeout=10", port,
                       subject);
  }

  // The id of `subject`'s live session on `gateway` once its API lists it; empty after 20 s.
  std::string wait_for_session(const GatewayProcess& gateway, const std::string& subject) const {
    const auto give_up = Clock::now() + 20s;
    while (Clock::now() < give_up) {
      auto listed = call_api(gateway.http_port(), http::verb::get, "/api/v1/sessions", admin_);
      if (listed.status == 200u && listed.body.is_object())
        for (const auto& s : listed.body.at("sessions").as_array())
          if (s.at("subject").as_string() == subject) return std::string(s.at("id").as_string());
      std::this_thread::sleep_for(50ms);
    }
    return {};
  }

  // The id of the pending review of `requester` whose command contains `text`, as `gateway`'s
  // API shows it to a reviewer; empty after 30 s.
  std::string wait_for_pending(const GatewayProcess& gateway, const std::string& requester,
                               const std::string& text) const {
    return pending_review_id(gateway.http_port(), lee_, requester, text);
  }

  // The statement records of `gateway`'s `audit search`, once every text in `awaited` is in
  // one of them (or after 20 s).
  static std::vector<json::object> search_until(const GatewayProcess& gateway,
                                                const std::vector<std::string>& awaited) {
    const auto give_up = Clock::now() + 20s;
    for (;;) {
      auto result = gateway.cli({"audit", "search", "--json", "--limit", "0"});
      EXPECT_TRUE(result.ok()) << result.describe();
      auto records = statement_records(result.stdout_text);
      bool all = true;
      for (const auto& text : awaited) {
        bool found = false;
        for (const auto& record : records)
          found = found || field(record, "command").find(text) != std::string::npos;
        all = all && found;
      }
      if (all || Clock::now() > give_up) return records;
      std::this_thread::sleep_for(200ms);
    }
  }

  // Polls `gateway`'s health until it answers `status`; how long after `start` that was, or
  // nullopt after 20 s. `body` gets the last answer.
  static std::optional<Clock::duration> time_until_health(const GatewayProcess& gateway,
                                                          unsigned status, std::string& body,
                                                          Clock::time_point start) {
    while (Clock::now() - start < 20s) {
      auto health = call_api(gateway.http_port(), http::verb::get, "/api/v1/health", "");
      body = health.text;
      if (health.status == status) return Clock::now() - start;
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

  std::string count_items() const {
    return backend_->psql_superuser("select count(*) from items").stdout_text;
  }

  TempDir keys_{"portcullis-keys-"};
  std::unique_ptr<PostgresServer> backend_;
  std::unique_ptr<PostgresServer> store_;
  std::string state_url_;
  std::unique_ptr<GatewayProcess> gw_a_;
  std::unique_ptr<GatewayProcess> gw_b_;
  std::unique_ptr<HaproxyServer> haproxy_;
  std::string dan_;
  std::string lee_;
  std::string admin_;
};

TEST_F(SeveralInstancesTest, ClientsThroughTheBalancerReachBothInstancesAndOneJournal) {
  const std::string tag = fmt::format("reach-{}", ::getpid());
  constexpr int kConnections = 12;
  std::vector<std::string> markers;
  for (int i = 0; i < kConnections; ++i) {
    markers.push_back(fmt::format("{}-{}", tag, i));
    auto run = psql_to(haproxy_->port(), "dan", dan_, fmt::format("select '{}'", markers.back()));
    ASSERT_TRUE(run.ok()) << run.describe();
    EXPECT_EQ(run.stdout_text, markers.back() + "\n");
  }

  // Either instance's journal holds every statement, each naming the instance that ran it, and
  // the balancer sent some to each.
  for (const auto* gateway : {gw_a_.get(), gw_b_.get()}) {
    std::map<std::string, int> by_instance;
    std::set<std::string> seen;
    for (const auto& record : search_until(*gateway, markers)) {
      const auto command = field(record, "command");
      if (command.find(tag) == std::string::npos) continue;
      ++by_instance[field(record, "instance")];
      seen.insert(command);
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(kConnections));
    EXPECT_GT(by_instance["gw-a"], 0) << gateway->config_file();
    EXPECT_GT(by_instance["gw-b"], 0) << gateway->config_file();
    EXPECT_EQ(by_instance["gw-a"] + by_instance["gw-b"], kConnections);
  }

  // Each instance verifies the whole journal, the other instance's chain included.
  auto verify_a = gw_a_->cli({"audit", "verify"});
  EXPECT_TRUE(verify_a.ok()) << verify_a.describe();
  EXPECT_NE(verify_a.stdout_text.find("gw-b"), std::string::npos) << verify_a.stdout_text;
  auto verify_b = gw_b_->cli({"audit", "verify"});
  EXPECT_TRUE(verify_b.ok()) << verify_b.describe();
  EXPECT_NE(verify_b.stdout_text.find("gw-a"), std::string::npos) << verify_b.stdout_text;

  // The export writes each chain in turn: every record of one instance, then the other's, each
  // chain's seqs from 1 without a gap.
  auto exported = gw_b_->cli({"audit", "export", "--format", "jsonl"});
  ASSERT_TRUE(exported.ok()) << exported.describe();
  std::map<std::string, std::int64_t> last_seq;
  std::vector<std::string> order;
  std::istringstream lines(exported.stdout_text);
  for (std::string line; std::getline(lines, line);) {
    auto value = json::parse(line);
    const auto& object = value.as_object();
    if (!object.contains("event")) continue;  // a checkpoint
    const std::string instance(object.at("instance").as_string());
    const std::int64_t seq = object.at("seq").to_number<std::int64_t>();
    EXPECT_EQ(seq, last_seq[instance] + 1) << instance << ": " << line;
    last_seq[instance] = seq;
    if (order.empty() || order.back() != instance) order.push_back(instance);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"gw-a", "gw-b"}));
  // Every thread logs to stderr, the feed's too: stdout is for command output.
  EXPECT_EQ(gw_a_->process().stdout_text(), "");
}

TEST_F(SeveralInstancesTest, StatementHeldOnOneInstanceIsReleasedByAnApprovalOnTheOther) {
  auto psql = start_psql(gw_a_->port(), "dan", dan_, "delete from items");
  // B sees the review A opened: the store is shared.
  const auto id = wait_for_pending(*gw_b_, "dan", "delete from items");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();
  EXPECT_TRUE(psql.running());
  EXPECT_EQ(count_items(), "10\n");

  auto approved = call_api(gw_b_->http_port(), http::verb::post,
                           "/api/v1/reviews/" + id + "/approve", lee_, R"({"comment": "ok"})");
  ASSERT_EQ(approved.status, 200u) << approved.text;
  const auto voted = Clock::now();
  std::optional<ExitStatus> status;
  while (!(status = psql.try_wait()) && Clock::now() - voted < 30s)
    std::this_thread::sleep_for(5ms);
  const auto released = Clock::now() - voted;
  std::cout << "held statement released " << milliseconds(released)
            << " ms after the approval on the other instance\n";
  ASSERT_TRUE(status.has_value()) << "still held 30 s after the approval";
  EXPECT_TRUE(status->success()) << status->describe() << psql.stderr_text();
  EXPECT_LT(released, kReleaseBound);
  EXPECT_NE(psql.stdout_text().find("DELETE 10"), std::string::npos) << psql.stdout_text();
  EXPECT_EQ(count_items(), "0\n");

  auto shown = call_api(gw_a_->http_port(), http::verb::get, "/api/v1/reviews/" + id, lee_);
  ASSERT_EQ(shown.status, 200u) << shown.text;
  EXPECT_EQ(shown.body.at("status").as_string(), "executed");
  EXPECT_EQ(shown.body.at("decided_by").as_string(), "lee");
}

TEST_F(SeveralInstancesTest, RevocationOnOneInstanceEndsTheSubjectsSessionOnTheOther) {
  const std::string rex = gw_a_->token_for("rex", "dba");
  auto psql = start_psql(gw_a_->port(), "rex", rex, "select pg_sleep(60)");
  ASSERT_FALSE(wait_for_session(*gw_a_, "rex").empty()) << psql.stderr_text();

  const auto sent = Clock::now();
  auto revoked = call_api(gw_b_->http_port(), http::verb::post, "/api/v1/revocations", admin_,
                          R"({"subject": "rex", "reason": "laptop stolen"})");
  const auto answered = Clock::now();
  ASSERT_EQ(revoked.status, 200u) << revoked.text;
  std::optional<ExitStatus> status;
  while (!(status = psql.try_wait()) && Clock::now() - answered < 30s)
    std::this_thread::sleep_for(2ms);
  const auto ended = Clock::now();
  ASSERT_TRUE(status.has_value()) << "the session outlived the revocation by 30 s";
  const auto latency = ended - answered;
  std::cout << "revocation latency: " << milliseconds(latency)
            << " ms from the answer on gw-b to the session's end on gw-a ("
            << milliseconds(ended - sent) << " ms from the request)\n";
  EXPECT_LT(latency, kRevocationBound);
  EXPECT_FALSE(status->success());
  EXPECT_NE(psql.stderr_text().find("revoked"), std::string::npos) << psql.stderr_text();

  // Refused on both instances from now on.
  for (const auto* gateway : {gw_a_.get(), gw_b_.get()}) {
    auto again = psql_to(gateway->port(), "rex", rex, "select 1");
    EXPECT_FALSE(again.ok()) << again.describe();
    EXPECT_NE(again.stderr_text.find("revoked"), std::string::npos) << again.stderr_text;
  }
}

TEST_F(SeveralInstancesTest, KillOnAnInstanceNotServingTheSessionIsHandedToItsOwner) {
  auto psql = start_psql(gw_a_->port(), "dan", dan_, "select pg_sleep(60)");
  const auto id = wait_for_session(*gw_a_, "dan");
  ASSERT_FALSE(id.empty()) << psql.stderr_text();

  auto killed =
      call_api(gw_b_->http_port(), http::verb::post, "/api/v1/sessions/" + id + "/kill", admin_);
  EXPECT_EQ(killed.status, 202u) << killed.text;
  const auto status = psql.wait(10s);
  EXPECT_FALSE(status.timed_out) << "the session outlived the kill by 10 s";
  EXPECT_FALSE(status.success());
  // The owner says where the kill came from.
  EXPECT_NE(psql.stderr_text().find("ended through the REST API"), std::string::npos)
      << psql.stderr_text();
}

// A guardrail added to every instance's file takes effect everywhere with one request, as a
// connection's lockdown would.
TEST_F(SeveralInstancesTest, AReloadAskedOfOneInstanceReloadsEveryInstance) {
  GatewayOptions closed = options("gw-a");
  closed.guardrails_section = std::string(kSeveralInstancesGuardrails) +
                              "  - name: reads-closed\n"
                              "    when: { statements: [select] }\n"
                              "    action: deny\n"
                              "    message: reads are closed for maintenance\n";
  const std::size_t a_before = gw_a_->reloads();
  const std::size_t b_before = gw_b_->reloads();
  gw_a_->rewrite_config(closed);
  closed.instance = "gw-b";
  gw_b_->rewrite_config(closed);

  auto asked = call_api(gw_b_->http_port(), http::verb::post, "/api/v1/reload", admin_);
  ASSERT_EQ(asked.status, 202u) << asked.text;
  EXPECT_EQ(asked.body.at("instances_told"), json::value(true)) << asked.text;
  const auto give_up = Clock::now() + 10s;
  while ((gw_a_->reloads() == a_before || gw_b_->reloads() == b_before) && Clock::now() < give_up)
    std::this_thread::sleep_for(20ms);
  EXPECT_GT(gw_a_->reloads(), a_before) << "gw-a did not reload";
  EXPECT_GT(gw_b_->reloads(), b_before) << "gw-b did not reload";

  for (const auto* gateway : {gw_a_.get(), gw_b_.get()}) {
    auto refused = psql_to(gateway->port(), "dan", dan_, "select 1");
    EXPECT_FALSE(refused.ok()) << refused.describe();
    EXPECT_NE(refused.stderr_text.find("reads are closed for maintenance"), std::string::npos)
        << refused.stderr_text;
  }
}

TEST_F(SeveralInstancesTest, ClientsCarryOnThroughTheOtherInstanceWhenOneIsKilled) {
  const auto role = backend_->scram_role().name;
  // The tables are made straight on the backend: what the journal must cover starts after.
  ChildOptions init;
  init.argv = {pg_bin("pgbench").string(),
               "-i",
               "-s",
               "1",
               "-q",
               backend_->conninfo(backend_->scram_role())};
  auto initialised = run_command(std::move(init), 120s);
  ASSERT_TRUE(initialised.ok()) << initialised.describe();
  const auto log_offset = backend_->log_text().size();

  // Simple protocol: the backend logs each statement with its values, as the journal has it.
  ChildOptions bench;
  bench.argv = {pg_bin("pgbench").string(),
                "-n",
                "-c",
                "4",
                "-T",
                "10",
                "-M",
                "simple",
                connection_string(haproxy_->port(), "dan")};
  bench.env = {{"PGPASSWORD", dan_}};
  ChildProcess load(std::move(bench));
  const auto busy_by = Clock::now() + 60s;
  while (backend_statements(backend_->log_text(), log_offset, role).size() < 200 &&
         Clock::now() < busy_by && load.running())
    std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(load.running()) << load.stderr_text();

  const std::string marker = fmt::format("marker-{}", ::getpid());
  auto marked = psql_to(gw_a_->port(), "dan", dan_, fmt::format("select '{}'", marker));
  ASSERT_TRUE(marked.ok()) << marked.describe();
  gw_a_->process().kill9();
  const auto killed = Clock::now();

  // New connections through the balancer work again within the bound, and keep working.
  std::optional<Clock::duration> failover;
  int attempt = 0;
  while (!failover && Clock::now() - killed < 30s) {
    auto run = psql_to(haproxy_->port(), "dan", dan_, fmt::format("select 'after-{}'", attempt));
    if (run.ok())
      failover = Clock::now() - killed;
    else
      std::this_thread::sleep_for(20ms);
    ++attempt;
  }
  ASSERT_TRUE(failover.has_value()) << "no connection through the balancer for 30 s";
  std::cout << "first connection through the balancer succeeded " << milliseconds(*failover)
            << " ms after the kill\n";
  EXPECT_LT(*failover, kFailoverBound);
  for (int i = 0; i < 8; ++i) {
    auto run = psql_to(haproxy_->port(), "dan", dan_, fmt::format("select 'still-{}'", i));
    EXPECT_TRUE(run.ok()) << run.describe();
  }
  ASSERT_TRUE(haproxy_->wait_for_state("gw-a", "DOWN", 20s)) << haproxy_->log_text();
  const auto marked_down = Clock::now() - killed;
  std::cout << "balancer marked gw-a down within " << milliseconds(marked_down)
            << " ms of the kill\n";
  EXPECT_LT(marked_down, kMarkedDownBound);
  // The clients A served were cut off; pgbench carries on with the others to its end.
  load.wait(60s);
  ChildOptions again;
  again.argv = {pg_bin("pgbench").string(),
                "-n",
                "-c",
                "2",
                "-t",
                "20",
                "-M",
                "simple",
                connection_string(haproxy_->port(), "dan")};
  again.env = {{"PGPASSWORD", dan_}};
  auto after = run_command(std::move(again), 120s);
  EXPECT_TRUE(after.ok()) << after.describe();

  gw_a_->start();
  EXPECT_TRUE(haproxy_->wait_for_state("gw-a", "UP", 20s)) << haproxy_->log_text();
  auto verify_a = gw_a_->cli({"audit", "verify"});
  EXPECT_TRUE(verify_a.ok()) << verify_a.describe();
  auto verify_b = gw_b_->cli({"audit", "verify"});
  EXPECT_TRUE(verify_b.ok()) << verify_b.describe();

  // The statement A ran just before it died is in the journal, as A's.
  const auto records = search_until(*gw_a_, {marker});
  bool marker_found = false;
  for (const auto& record : records)
    if (field(record, "command").find(marker) != std::string::npos) {
      marker_found = true;
      EXPECT_EQ(field(record, "instance"), "gw-a");
    }
  EXPECT_TRUE(marker_found) << "the journal lacks " << marker;

  // Every statement the backend ran, through either instance, is in the journal.
  std::map<std::string, int> journaled;
  for (const auto& record : records)
    if (field(record, "verdict") == "allow") ++journaled[normalised(field(record, "command"))];
  const auto ran = backend_statements(backend_->log_text(), log_offset, role);
  ASSERT_GT(ran.size(), 200u);
  int missing = 0;
  for (const auto& statement : ran) {
    if (journaled[normalised(statement)]-- > 0) continue;
    ADD_FAILURE() << "the backend ran a statement the journal does not hold: " << statement;
    if (++missing > 5) break;
  }
}

TEST_F(SeveralInstancesTest, InstancesReportTheStoreGoneAndRecoverWhenItIsBack) {
  auto before = psql_to(gw_a_->port(), "dan", dan_, "select 'before'");
  ASSERT_TRUE(before.ok()) << before.describe();
  // A session that stays open through the outage: in strict mode its commands are refused
  // while the other instances cannot see their records.
  PgWireClient live(gw_a_->port(), "dan", dan_, "app-db");
  ASSERT_TRUE(live.ok()) << live.login_error();

  // From the start of the shutdown: it ends the store's connections before it returns.
  const auto stopping = Clock::now();
  store_->stop();
  std::string body;
  const auto gone = time_until_health(*gw_a_, 503, body, stopping);
  ASSERT_TRUE(gone.has_value()) << "still healthy 20 s after the store stopped: " << body;
  std::cout << "health 503 " << milliseconds(*gone) << " ms after the store began to stop\n";
  EXPECT_LT(*gone, kStoreGoneBound);
  EXPECT_NE(body.find("\"state\":\"unavailable\""), std::string::npos) << body;

  auto refused = psql_to(gw_a_->port(), "dan", dan_, "select 'while the store is down'");
  EXPECT_FALSE(refused.ok()) << refused.describe();
  const auto error = lowercase(refused.stderr_text);
  EXPECT_TRUE(error.find("state store") != std::string::npos ||
              error.find("unavailable") != std::string::npos)
      << refused.stderr_text;
  // Both instances are out of the balancer while neither can record.
  EXPECT_TRUE(haproxy_->wait_for_state("gw-a", "DOWN", 10s)) << haproxy_->log_text();
  EXPECT_TRUE(haproxy_->wait_for_state("gw-b", "DOWN", 10s)) << haproxy_->log_text();
  // By now (a second on) the journal has found its index out of reach too.
  live.send(PgWireClient::query("select 'live while the store is down'"));
  std::string live_error;
  for (const auto& message : live.read_until_ready())
    if (message.type == 'E') live_error = message.body;
  EXPECT_NE(live_error.find("cannot be written"), std::string::npos)
      << "a live session's command ran while the store was down: " << live_error;

  store_->start();
  const auto back = time_until_health(*gw_a_, 200, body, Clock::now());
  ASSERT_TRUE(back.has_value()) << "still unavailable 20 s after the store came back: " << body;
  std::cout << "health 200 " << milliseconds(*back) << " ms after the store started\n";
  EXPECT_LT(*back, kStoreBackBound);

  auto after = psql_to(gw_a_->port(), "dan", dan_, "select 'after'");
  EXPECT_TRUE(after.ok()) << after.describe();
  EXPECT_EQ(after.stdout_text, "after\n");
  EXPECT_TRUE(haproxy_->wait_for_state("gw-b", "UP", 20s)) << haproxy_->log_text();
  auto balanced = psql_to(haproxy_->port(), "dan", dan_, "select 'balanced'");
  EXPECT_TRUE(balanced.ok()) << balanced.describe();
  EXPECT_EQ(backend_->log_text().find("while the store is down"), std::string::npos)
      << "a refused statement reached the backend";
  // The live session goes on once the store is back.
  live.send(PgWireClient::query("select 'live after'"));
  bool rows = false;
  for (const auto& message : live.read_until_ready()) rows = rows || message.type == 'D';
  EXPECT_TRUE(rows) << "the live session did not recover";
}

}  // namespace
}  // namespace portcullis::testing
