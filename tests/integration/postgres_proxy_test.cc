// End to end: psql, pgbench and libpq through the real gateway binary to a real PostgreSQL.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <libpq/libpq-fs.h>
#include <poll.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "gateway_fixture.h"
#include "support/postgres_server.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;

struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Connection = std::unique_ptr<PGconn, PgConnDeleter>;

Connection connect(const std::string& conninfo) {
  Connection conn(PQconnectdb(conninfo.c_str()));
  EXPECT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  return conn;
}

std::string scalar(PGconn* conn, const char* sql) {
  PGresult* result = PQexec(conn, sql);
  std::string value;
  if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1)
    value = PQgetvalue(result, 0, 0);
  else
    ADD_FAILURE() << sql << ": " << PQresultErrorMessage(result);
  PQclear(result);
  return value;
}

class PostgresProxyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    gateway_ = new GatewayProcess(*postgres_);
    token_ = new std::string(gateway_->issue_token("alice"));
  }
  static void TearDownTestSuite() {
    delete token_;
    delete gateway_;
    delete postgres_;
  }

  RunResult psql(std::vector<std::string> args, const std::string& dbname = "app-db") {
    return gateway_->psql("alice", *token_, std::move(args), dbname);
  }

  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static std::string* token_;
};

PostgresServer* PostgresProxyTest::postgres_ = nullptr;
GatewayProcess* PostgresProxyTest::gateway_ = nullptr;
std::string* PostgresProxyTest::token_ = nullptr;

TEST_F(PostgresProxyTest, PsqlRunsQueriesAsTheGatewayCredentials) {
  auto result = psql({"-c", "select current_user, current_database()"});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, postgres_->scram_role().name + "|app\n");
}

TEST_F(PostgresProxyTest, BackendAuthenticatesWithScramMd5AndTrust) {
  for (const auto& [dbname, role] : {std::pair{"app-db", postgres_->scram_role().name},
                                     std::pair{"md5-db", postgres_->md5_role().name},
                                     std::pair{"trust-db", postgres_->trust_role().name}}) {
    auto result = psql({"-c", "select current_user"}, dbname);
    ASSERT_TRUE(result.ok()) << dbname << ": " << result.describe();
    EXPECT_EQ(result.stdout_text, role + "\n");
  }
}

TEST_F(PostgresProxyTest, SeveralStatementsInOneQueryAllRun) {
  auto result = psql({"-c", "select 1; select 'two'; select 3 as three"});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "1\ntwo\n3\n");
}

TEST_F(PostgresProxyTest, ErrorsReachTheClientAndTheSessionStaysUsable) {
  auto result = gateway_->psql("alice", *token_, {"-v", "ON_ERROR_STOP=0"}, "app-db", {},
                               "select 1/0;\nselect 'after';\n");
  EXPECT_NE(result.stderr_text.find("division by zero"), std::string::npos) << result.describe();
  EXPECT_NE(result.stdout_text.find("after"), std::string::npos) << result.describe();
}

TEST_F(PostgresProxyTest, CopyRunsBothWays) {
  const auto dir = gateway_->dir();
  {
    std::ofstream in(dir / "rows.csv");
    for (int i = 0; i < 5000; ++i) in << i << ",name " << i << "\n";
  }
  auto result =
      psql({"-c", "create table copy_target (id int, name text)", "-c",
            "\\copy copy_target from 'rows.csv' with (format csv)", "-c",
            "\\copy (select * from copy_target order by id) to 'out.csv' with (format csv)", "-c",
            "select count(*), sum(id) from copy_target"});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_NE(result.stdout_text.find("5000|12497500"), std::string::npos) << result.stdout_text;
  std::ifstream out(dir / "out.csv");
  std::string first;
  std::getline(out, first);
  EXPECT_EQ(first, "0,name 0");
}

TEST_F(PostgresProxyTest, LargeValuesStreamThrough) {
  // 8 MB in one DataRow: more than the relay buffer, streamed rather than buffered whole.
  auto result = psql({"-c", "select length(repeat('x', 8000000)), md5(repeat('x', 8000000))"});
  ASSERT_TRUE(result.ok()) << result.describe();
  auto direct =
      postgres_->psql_superuser("select length(repeat('x', 8000000)), md5(repeat('x', 8000000))");
  EXPECT_EQ(result.stdout_text, direct.stdout_text);
  auto echo = psql({"-c", "select length(repeat('y', 3000000) || '')"});
  EXPECT_EQ(echo.stdout_text, "3000000\n");
}

TEST_F(PostgresProxyTest, CancelStopsARunningQuery) {
  auto conn = connect(gateway_->conninfo("alice", *token_));
  ASSERT_EQ(PQsendQuery(conn.get(), "select pg_sleep(30)"), 1);
  // A cancel that reaches an idle backend is ignored: wait until the query runs there (the
  // gateway classifies and journals it first).
  const auto running_by = std::chrono::steady_clock::now() + 20s;
  while (postgres_
             ->psql_superuser("select count(*) from pg_stat_activity where state = 'active' and "
                              "query = 'select pg_sleep(30)'")
             .stdout_text != "1\n") {
    ASSERT_LT(std::chrono::steady_clock::now(), running_by)
        << "the query never reached the backend";
    std::this_thread::sleep_for(50ms);
  }
  const auto started = std::chrono::steady_clock::now();
  PGcancel* cancel = PQgetCancel(conn.get());
  char error[256];
  ASSERT_EQ(PQcancel(cancel, error, sizeof error), 1) << error;
  PQfreeCancel(cancel);
  PGresult* result = PQgetResult(conn.get());
  EXPECT_EQ(PQresultStatus(result), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(result, PG_DIAG_SQLSTATE), "57014");
  PQclear(result);
  while ((result = PQgetResult(conn.get())) != nullptr) PQclear(result);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_EQ(scalar(conn.get(), "select 'still usable'"), "still usable");
}

TEST_F(PostgresProxyTest, ClientSeesTheGatewaysKeyNotTheBackends) {
  auto conn = connect(gateway_->conninfo("alice", *token_));
  const int backend_pid = std::stoi(scalar(conn.get(), "select pg_backend_pid()"));
  EXPECT_NE(PQbackendPID(conn.get()), backend_pid);
}

TEST_F(PostgresProxyTest, ListenNotifyDeliversNotifications) {
  auto listener = connect(gateway_->conninfo("alice", *token_));
  auto notifier = connect(gateway_->conninfo("alice", *token_));
  PQclear(PQexec(listener.get(), "listen portcullis_test"));
  PQclear(PQexec(notifier.get(), "notify portcullis_test, 'hello'"));
  PGnotify* notify = nullptr;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (notify == nullptr && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{PQsocket(listener.get()), POLLIN, 0};
    poll(&fd, 1, 200);
    PQconsumeInput(listener.get());
    notify = PQnotifies(listener.get());
  }
  ASSERT_NE(notify, nullptr);
  EXPECT_STREQ(notify->relname, "portcullis_test");
  EXPECT_STREQ(notify->extra, "hello");
  PQfreemem(notify);
}

TEST_F(PostgresProxyTest, NoticesReachTheClient) {
  auto result =
      gateway_->psql("alice", *token_, {"-c", "do $$ begin raise notice 'note %', 42; end $$"});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_NE(result.stderr_text.find("NOTICE:  note 42"), std::string::npos) << result.stderr_text;
}

TEST_F(PostgresProxyTest, ExtendedProtocolWithNamedStatementsAndParameters) {
  auto conn = connect(gateway_->conninfo("alice", *token_));
  PGresult* prepared = PQprepare(conn.get(), "add", "select $1::int + $2::int", 2, nullptr);
  ASSERT_EQ(PQresultStatus(prepared), PGRES_COMMAND_OK) << PQresultErrorMessage(prepared);
  PQclear(prepared);
  for (int i = 0; i < 3; ++i) {
    const std::string a = std::to_string(i);
    const char* values[] = {a.c_str(), "40"};
    PGresult* result = PQexecPrepared(conn.get(), "add", 2, values, nullptr, nullptr, 0);
    ASSERT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQresultErrorMessage(result);
    EXPECT_EQ(std::string(PQgetvalue(result, 0, 0)), std::to_string(40 + i));
    PQclear(result);
  }
  // Binary parameters and results.
  const uint32_t big_endian_7 = htonl(7);
  const char* values[] = {reinterpret_cast<const char*>(&big_endian_7)};
  const int lengths[] = {4};
  const int formats[] = {1};
  const Oid types[] = {23};
  PGresult* result =
      PQexecParams(conn.get(), "select $1::int * 6", 1, types, values, lengths, formats, 0);
  ASSERT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQresultErrorMessage(result);
  EXPECT_STREQ(PQgetvalue(result, 0, 0), "42");
  PQclear(result);
}

TEST_F(PostgresProxyTest, PipelinedBatchesKeepTheirOrder) {
  auto conn = connect(gateway_->conninfo("alice", *token_));
  ASSERT_EQ(PQenterPipelineMode(conn.get()), 1);
  for (int i = 0; i < 50; ++i) {
    const std::string value = std::to_string(i);
    const char* values[] = {value.c_str()};
    ASSERT_EQ(
        PQsendQueryParams(conn.get(), "select $1::int", 1, nullptr, values, nullptr, nullptr, 0),
        1);
  }
  ASSERT_EQ(PQpipelineSync(conn.get()), 1);
  for (int i = 0; i < 50; ++i) {
    PGresult* result = PQgetResult(conn.get());
    ASSERT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQresultErrorMessage(result);
    EXPECT_EQ(std::string(PQgetvalue(result, 0, 0)), std::to_string(i));
    PQclear(result);
    EXPECT_EQ(PQgetResult(conn.get()), nullptr);
  }
  PGresult* sync = PQgetResult(conn.get());
  EXPECT_EQ(PQresultStatus(sync), PGRES_PIPELINE_SYNC);
  PQclear(sync);
}

TEST_F(PostgresProxyTest, CopyFromStdinOverTheExtendedProtocolKeepsTheSessionInStep) {
  // libpq sends a Sync after the Execute and another after CopyDone; the backend ignores
  // the first. The session must go on answering in order afterwards.
  auto conn = connect(gateway_->conninfo("alice", *token_));
  PQclear(PQexec(conn.get(), "create table extended_copy (n int)"));
  PGresult* copy = PQexecParams(conn.get(), "copy extended_copy from stdin", 0, nullptr, nullptr,
                                nullptr, nullptr, 0);
  ASSERT_EQ(PQresultStatus(copy), PGRES_COPY_IN) << PQresultErrorMessage(copy);
  PQclear(copy);
  for (int i = 1; i <= 100; ++i) {
    const std::string row = std::to_string(i) + "\n";
    ASSERT_EQ(PQputCopyData(conn.get(), row.data(), static_cast<int>(row.size())), 1);
  }
  ASSERT_EQ(PQputCopyEnd(conn.get(), nullptr), 1);
  PGresult* done = PQgetResult(conn.get());
  EXPECT_EQ(PQresultStatus(done), PGRES_COMMAND_OK) << PQresultErrorMessage(done);
  PQclear(done);
  while ((done = PQgetResult(conn.get())) != nullptr) PQclear(done);
  for (int i = 0; i < 3; ++i) {
    PGresult* result = PQexecParams(conn.get(), "select sum(n) from extended_copy", 0, nullptr,
                                    nullptr, nullptr, nullptr, 0);
    ASSERT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQresultErrorMessage(result);
    EXPECT_STREQ(PQgetvalue(result, 0, 0), "5050");
    PQclear(result);
  }
}

TEST_F(PostgresProxyTest, LargeObjectsWorkThroughFunctionCall) {
  // libpq's large-object API speaks the FunctionCall (fast-path) message.
  auto conn = connect(gateway_->conninfo("alice", *token_));
  PQclear(PQexec(conn.get(), "begin"));
  const Oid oid = lo_creat(conn.get(), INV_READ | INV_WRITE);
  ASSERT_NE(oid, InvalidOid) << PQerrorMessage(conn.get());
  const int fd = lo_open(conn.get(), oid, INV_READ | INV_WRITE);
  ASSERT_GE(fd, 0) << PQerrorMessage(conn.get());
  const std::string payload = "through the gateway";
  EXPECT_EQ(lo_write(conn.get(), fd, payload.data(), payload.size()),
            static_cast<int>(payload.size()));
  EXPECT_EQ(lo_lseek(conn.get(), fd, 0, SEEK_SET), 0);
  char back[64] = {};
  EXPECT_EQ(lo_read(conn.get(), fd, back, sizeof back), static_cast<int>(payload.size()));
  EXPECT_EQ(std::string(back), payload);
  EXPECT_EQ(lo_close(conn.get(), fd), 0);
  PQclear(PQexec(conn.get(), "commit"));
}

TEST_F(PostgresProxyTest, LogsNeverHoldTokensOrPasswords) {
  auto result = psql({"-c", "select 1"});
  ASSERT_TRUE(result.ok()) << result.describe();
  const auto logs = gateway_->process().stderr_text();
  EXPECT_NE(logs.find("event=session_start"), std::string::npos);
  EXPECT_EQ(logs.find(*token_), std::string::npos);
  EXPECT_EQ(logs.find(postgres_->scram_role().password), std::string::npos);
  EXPECT_EQ(logs.find(postgres_->md5_role().password), std::string::npos);
}

TEST_F(PostgresProxyTest, PgbenchRunsInAllThreeModes) {
  const std::string conninfo = gateway_->conninfo("alice", "");
  ChildOptions init;
  init.argv = {pg_bin("pgbench").string(), "-i", "-s", "1", "-q", conninfo};
  init.env = {{"PGPASSWORD", *token_}};
  auto initialized = run_command(std::move(init), 120s);
  ASSERT_TRUE(initialized.ok()) << initialized.describe();
  for (const char* mode : {"simple", "extended", "prepared"}) {
    ChildOptions bench;
    bench.argv = {
        pg_bin("pgbench").string(), "-n", "-c", "8", "-j", "2", "-t", "100", "-M", mode, conninfo};
    bench.env = {{"PGPASSWORD", *token_}};
    auto result = run_command(std::move(bench), 300s);
    ASSERT_TRUE(result.ok()) << mode << ": " << result.describe();
    EXPECT_NE(result.stdout_text.find("number of transactions actually processed: 800/800"),
              std::string::npos)
        << mode << ": " << result.stdout_text;
    EXPECT_NE(result.stdout_text.find("number of failed transactions: 0 "), std::string::npos)
        << mode << ": " << result.stdout_text;
  }
}

TEST_F(PostgresProxyTest, StartupOptionsSettingsAreForwardedAndOwnedOnesRefused) {
  auto result = gateway_->psql("alice", *token_, {"-c", "show work_mem"}, "app-db",
                               "options='-c work_mem=7MB'");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "7MB\n");
  auto refused = gateway_->psql("alice", *token_, {"-c", "select 1"}, "app-db",
                                "options='-c default_transaction_read_only=off'");
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.stderr_text.find("controlled by the gateway"), std::string::npos)
      << refused.stderr_text;
}

TEST_F(PostgresProxyTest, UnknownConnectionIsRefusedByName) {
  auto result = psql({"-c", "select 1"}, "no-such-db");
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.stderr_text.find("unknown connection \"no-such-db\""), std::string::npos)
      << result.stderr_text;
}

TEST_F(PostgresProxyTest, ConnectionWithoutAMatchingAccessRuleIsRefused) {
  const auto outsider =
      gateway_->cli({"token", "issue", "--subject", "mallory", "--group", "outsiders"});
  ASSERT_TRUE(outsider.ok()) << outsider.describe();
  std::string token = outsider.stdout_text;
  token.erase(token.find_last_not_of("\r\n") + 1);
  auto result = gateway_->psql("mallory", token, {"-c", "select 1"});
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.stderr_text.find("no access rule grants \"mallory\" the connection \"app-db\""),
            std::string::npos)
      << result.stderr_text;
}

}  // namespace
}  // namespace portcullis::testing
