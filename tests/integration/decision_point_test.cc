// The decision point, seen from real clients: the gateway runs in this process with the
// decision function it runs in production (policy::decide, from make_gateway_context), wrapped
// to record every command and to refuse marked ones as a policy rule would: by the command
// alone, the same at Parse as at Execute. A real PostgreSQL behind it; libpq talks to it over
// both protocols.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <mutex>

#include "config/loader.h"
#include "gateway/context.h"
#include "identity/authenticator.h"
#include "identity/gateway_token.h"
#include "identity/signing_key.h"
#include "net/io_threads.h"
#include "proto/postgres/server.h"
#include "store/state_store.h"
#include "support/free_port.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace portcullis::testing {
namespace {

constexpr std::string_view kMarker = "forbidden_marker";

struct Recorded {
  std::string text;
  std::string via;
  std::vector<std::optional<std::string>> params;
};

class DecisionPointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    dir_ = new TempDir("portcullis-decide-");
    port_ = free_tcp_port();
    setenv("DECISION_TEST_PASSWORD", postgres_->scram_role().password.c_str(), 1);
    const auto yaml = fmt::format(
        "listen:\n  postgres: 127.0.0.1:{}\n"
        "state:\n  url: sqlite://state.db\n"
        "identity:\n  signing_key_file: signing.key\n"
        "connections:\n"
        "  - name: app-db\n    kind: postgres\n    address: 127.0.0.1:{}\n    database: app\n"
        "    tls: disable\n"
        "    credentials:\n      default: {{ user: {}, password_env: DECISION_TEST_PASSWORD }}\n"
        "access:\n"
        "  - name: testers\n    who: {{ groups: [testers] }}\n    connections: [app-db]\n"
        "    allow: [read, write]\n",
        port_, postgres_->port(), postgres_->scram_role().name);
    auto config = config::parse_config(yaml, dir_->path() / "portcullis.yaml");
    ASSERT_TRUE(config.ok()) << config.error().message;
    auto store = store::open_state_store((*config)->state_url);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = store->release();
    auto authenticator = identity::make_authenticator(**config, *store_, true);
    ASSERT_TRUE(authenticator.ok()) << authenticator.error().message;
    std::shared_ptr<const identity::Authenticator> shared(std::move(*authenticator));
    auto context = gateway::make_gateway_context(*config, shared);
    ASSERT_TRUE(context.ok()) << context.error().message;
    auto custom = std::make_shared<gateway::GatewayContext>(**context);
    // What the gateway runs: the tests below go through it for everything but the marker.
    const gateway::DecideFunction production = (*context)->decide;
    ASSERT_TRUE(production);
    custom->decide = [production](const config::Config& config, const identity::Identity& who,
                                  const policy::Grant& grant, const policy::Command& command) {
      {
        std::lock_guard lock(mutex_);
        recorded_.push_back(
            Recorded{command.text, std::string(command.via), command.sql()->params});
      }
      // A rule on the text alone, whatever message carries it (Query, Parse, Execute), as
      // every rule of the real decision point. Switched off only to stand for a policy that
      // changed between a Parse and its Execute.
      if (deny_marker_ && command.text.find(kMarker) != std::string::npos) {
        policy::Decision decision;
        decision.verdict = policy::Verdict::deny;
        decision.rule = "test-deny";
        decision.message = "not here";
        return decision;
      }
      return production(config, who, grant, command);
    };
    threads_ = new net::IoThreads(1);
    server_ = new proto::postgres::Server(*threads_, custom);
    auto started = server_->start("127.0.0.1", port_);
    ASSERT_TRUE(started.ok()) << started.error().message;
    threads_->start();

    // A token signed with the key the gateway checks.
    auto key = identity::load_signing_key(dir_->path() / "signing.key", false);
    ASSERT_TRUE(key.ok()) << key.error().message;
    identity::TokenRequest request;
    request.subject = "alice";
    request.groups = {"testers"};
    auto token = identity::issue_gateway_token(*key, (*config)->identity.issuer, request,
                                               std::chrono::system_clock::now());
    ASSERT_TRUE(token.ok()) << token.error().message;
    token_ = new std::string(token->reveal());
  }

  static void TearDownTestSuite() {
    server_->stop();
    threads_->release();
    threads_->join();
    delete server_;
    delete threads_;
    delete token_;
    delete store_;
    delete dir_;
    delete postgres_;
  }

  void SetUp() override {
    deny_marker_ = true;
    std::lock_guard lock(mutex_);
    recorded_.clear();
  }

  // The commands decided where they run (Parse is decided too, and left out here).
  static std::vector<Recorded> recorded() {
    std::lock_guard lock(mutex_);
    std::vector<Recorded> out;
    for (const auto& r : recorded_)
      if (r.via != "parse") out.push_back(r);
    return out;
  }

  PGconn* connect();

  static PostgresServer* postgres_;
  static TempDir* dir_;
  static uint16_t port_;
  static store::StateStore* store_;
  static std::string* token_;
  static net::IoThreads* threads_;
  static proto::postgres::Server* server_;
  static std::mutex mutex_;
  static std::vector<Recorded> recorded_;
  static std::atomic<bool> deny_marker_;
};

PostgresServer* DecisionPointTest::postgres_ = nullptr;
TempDir* DecisionPointTest::dir_ = nullptr;
uint16_t DecisionPointTest::port_ = 0;
store::StateStore* DecisionPointTest::store_ = nullptr;
std::string* DecisionPointTest::token_ = nullptr;
net::IoThreads* DecisionPointTest::threads_ = nullptr;
proto::postgres::Server* DecisionPointTest::server_ = nullptr;
std::mutex DecisionPointTest::mutex_;
std::vector<Recorded> DecisionPointTest::recorded_;
std::atomic<bool> DecisionPointTest::deny_marker_{true};

PGconn* DecisionPointTest::connect() {
  const auto conninfo =
      fmt::format("host=127.0.0.1 port={} user=alice dbname=app-db password='{}'", port_, *token_);
  PGconn* conn = PQconnectdb(conninfo.c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  return conn;
}

void expect_refused(PGresult* result) {
  EXPECT_EQ(PQresultStatus(result), PGRES_FATAL_ERROR);
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  EXPECT_STREQ(sqlstate ? sqlstate : "", "42501");
  const char* message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  EXPECT_STREQ(message ? message : "", "portcullis: blocked by rule \"test-deny\": not here");
  PQclear(result);
}

void expect_value(PGresult* result, std::string_view value) {
  ASSERT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQresultErrorMessage(result);
  EXPECT_EQ(std::string_view(PQgetvalue(result, 0, 0)), value);
  PQclear(result);
}

TEST_F(DecisionPointTest, EveryQueryPassesTheDecisionPoint) {
  PGconn* conn = connect();
  expect_value(PQexec(conn, "select 'one'"), "one");
  expect_value(PQexec(conn, "select 'two'; select 'three'"), "three");
  PQfinish(conn);
  const auto commands = recorded();
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0].text, "select 'one'");
  EXPECT_EQ(commands[0].via, "query");
  EXPECT_EQ(commands[1].text, "select 'two'; select 'three'");
}

TEST_F(DecisionPointTest, EveryExecuteIsACommandWithItsBoundValues) {
  PGconn* conn = connect();
  PQclear(PQprepare(conn, "greet", "select 'hello ' || $1::text", 1, nullptr));
  for (const char* name : {"ann", "ben"}) {
    const char* values[] = {name};
    expect_value(PQexecPrepared(conn, "greet", 1, values, nullptr, nullptr, 0),
                 std::string("hello ") + name);
  }
  PQfinish(conn);
  const auto commands = recorded();
  ASSERT_EQ(commands.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(commands[i].text, "select 'hello ' || $1::text");
    EXPECT_EQ(commands[i].via, "execute");
    ASSERT_EQ(commands[i].params.size(), 1u);
  }
  EXPECT_EQ(commands[0].params[0], "ann");
  EXPECT_EQ(commands[1].params[0], "ben");
}

TEST_F(DecisionPointTest, AMarkedStatementIsRefusedAtParse) {
  PGconn* conn = connect();
  // Refused before the backend sees it: the statement never exists there.
  expect_refused(PQprepare(conn, "m1", "select 'forbidden_marker'", 0, nullptr));
  PGresult* missing = PQexecPrepared(conn, "m1", 0, nullptr, nullptr, nullptr, 0);
  EXPECT_EQ(PQresultStatus(missing), PGRES_FATAL_ERROR);
  PQclear(missing);
  PQfinish(conn);
  std::lock_guard lock(mutex_);
  ASSERT_FALSE(recorded_.empty());
  EXPECT_EQ(recorded_[0].text, "select 'forbidden_marker'");
  EXPECT_EQ(recorded_[0].via, "parse");
}

TEST_F(DecisionPointTest, ARejectedReparseCannotChangeWhatIsJudged) {
  PGconn* conn = connect();
  // Prepared while the policy still allowed it; the policy then changes.
  deny_marker_ = false;
  PGresult* first = PQprepare(conn, "s1", "select 'forbidden_marker'", 0, nullptr);
  ASSERT_EQ(PQresultStatus(first), PGRES_COMMAND_OK) << PQresultErrorMessage(first);
  PQclear(first);
  deny_marker_ = true;
  // A benign text under the same name passes the decision point, but PostgreSQL refuses the
  // duplicate name and keeps the first statement...
  PGresult* second = PQprepare(conn, "s1", "select 'benign'", 0, nullptr);
  EXPECT_STREQ(PQresultErrorField(second, PG_DIAG_SQLSTATE), "42P05");
  PQclear(second);
  // ...so the gateway judges the first text, which is what would run.
  expect_refused(PQexecPrepared(conn, "s1", 0, nullptr, nullptr, nullptr, 0));
  // A statement the backend rejected never exists, whatever name it had.
  deny_marker_ = false;
  PGresult* broken = PQprepare(conn, "s2", "select * from no_such_table", 0, nullptr);
  EXPECT_EQ(PQresultStatus(broken), PGRES_FATAL_ERROR);
  PQclear(broken);
  PGresult* real = PQprepare(conn, "s2", "select 'forbidden_marker'", 0, nullptr);
  ASSERT_EQ(PQresultStatus(real), PGRES_COMMAND_OK) << PQresultErrorMessage(real);
  PQclear(real);
  deny_marker_ = true;
  expect_refused(PQexecPrepared(conn, "s2", 0, nullptr, nullptr, nullptr, 0));
  PQfinish(conn);
}

TEST_F(DecisionPointTest, PortalsOfStatementsTheGatewayNeverSawAreRefused) {
  PGconn* conn = connect();
  PQclear(PQexec(conn, "prepare made_in_sql as select 'hidden'"));
  PGresult* result = PQexecPrepared(conn, "made_in_sql", 0, nullptr, nullptr, nullptr, 0);
  EXPECT_EQ(PQresultStatus(result), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(result, PG_DIAG_SQLSTATE), "34000");
  PQclear(result);
  expect_value(PQexec(conn, "select 'still usable'"), "still usable");
  PQfinish(conn);
}

TEST_F(DecisionPointTest, RefusedSimpleQueryGets42501AndTheSessionGoesOn) {
  PGconn* conn = connect();
  expect_refused(PQexec(conn, "select 'forbidden_marker'"));
  expect_value(PQexec(conn, "select 'after'"), "after");
  // Inside a transaction the refused statement never ran, so the transaction goes on.
  PQclear(PQexec(conn, "begin"));
  expect_refused(PQexec(conn, "select 'forbidden_marker'"));
  expect_value(PQexec(conn, "select 'in transaction'"), "in transaction");
  PQclear(PQexec(conn, "commit"));
  PQfinish(conn);
}

TEST_F(DecisionPointTest, RefusedExtendedQueryResumesAtSync) {
  PGconn* conn = connect();
  const char* values[] = {"x"};
  expect_refused(PQexecParams(conn, "select $1::text || 'forbidden_marker'", 1, nullptr, values,
                              nullptr, nullptr, 0));
  expect_value(
      PQexecParams(conn, "select $1::text || 'ok'", 1, nullptr, values, nullptr, nullptr, 0),
      "xok");
  PQfinish(conn);
}

TEST_F(DecisionPointTest, RefusalInAPipelineAffectsOnlyItsBatch) {
  PGconn* conn = connect();
  ASSERT_EQ(PQenterPipelineMode(conn), 1);
  const char* texts[] = {"select 'first'", "select 'forbidden_marker'", "select 'third'"};
  for (const char* text : texts) {
    ASSERT_EQ(PQsendQueryParams(conn, text, 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
    ASSERT_EQ(PQpipelineSync(conn), 1);
  }
  auto next_result = [&]() {
    PGresult* result = PQgetResult(conn);
    return result;
  };
  expect_value(next_result(), "first");
  EXPECT_EQ(next_result(), nullptr);
  PGresult* sync = next_result();
  EXPECT_EQ(PQresultStatus(sync), PGRES_PIPELINE_SYNC);
  PQclear(sync);
  expect_refused(next_result());
  EXPECT_EQ(next_result(), nullptr);
  sync = next_result();
  EXPECT_EQ(PQresultStatus(sync), PGRES_PIPELINE_SYNC);
  PQclear(sync);
  expect_value(next_result(), "third");
  EXPECT_EQ(next_result(), nullptr);
  sync = next_result();
  EXPECT_EQ(PQresultStatus(sync), PGRES_PIPELINE_SYNC);
  PQclear(sync);
  PQfinish(conn);
}

}  // namespace
}  // namespace portcullis::testing
