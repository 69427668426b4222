// Least privilege and guardrails end to end: psql and libpq through the gateway binary to a
// real PostgreSQL, under the reference policy of INTERFACE.md.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "gateway_fixture.h"
#include "support/postgres_server.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kGuardrailTestAccess =
    "access:\n"
    "  - name: engineers-read\n"
    "    who: { groups: [engineering] }\n"
    "    connections: [app-db]\n"
    "    credentials: readonly\n"
    "    allow: [read]\n"
    "  - name: dba\n"
    "    who: { groups: [dba] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read, write, ddl, dcl, admin]\n";

constexpr const char* kGuardrailTestGuardrails =
    "guardrails:\n"
    "  - name: no-drops\n"
    "    when: { statements: [drop_table, drop_database, drop_schema, truncate] }\n"
    "    action: deny\n"
    "    message: dropping or truncating tables is not allowed through the gateway\n"
    "  - name: unbounded-writes-need-approval\n"
    "    when: { statements: [delete, update], where: absent }\n"
    "    action: review\n"
    "    reviewers: { groups: [dba] }\n"
    "    wait: 1s\n"
    "  - name: no-server-files\n"
    "    when: { functions: [pg_read_file, pg_read_binary_file, pg_ls_dir, lo_import, "
    "lo_export], statements: [copy_program, copy_file] }\n"
    "    action: deny\n";

GatewayOptions reference_policy() {
  GatewayOptions options;
  options.access_section = kGuardrailTestAccess;
  options.guardrails_section = kGuardrailTestGuardrails;
  return options;
}

class GuardrailsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    auto setup = postgres_->psql_superuser(
        "create table accounts (id int primary key, owner text, balance int);"
        "insert into accounts select g, 'owner ' || g, g * 10 from generate_series(1, 20) g;"
        "alter table accounts owner to " +
        postgres_->scram_role().name + ";");
    ASSERT_TRUE(setup.ok()) << setup.describe();
    gateway_ = new GatewayProcess(*postgres_, reference_policy());
    reader_ = new std::string(gateway_->token_for("rita", "engineering"));
    dba_ = new std::string(gateway_->token_for("dan", "dba"));
  }
  static void TearDownTestSuite() {
    delete dba_;
    delete reader_;
    delete gateway_;
    delete postgres_;
  }
  static RunResult as_reader(const std::string& sql) {
    return gateway_->psql("rita", *reader_, {"-c", sql});
  }
  static RunResult as_dba(const std::string& sql) {
    return gateway_->psql("dan", *dba_, {"-c", sql});
  }
  static void expect_blocked(const RunResult& result, const std::string& rule) {
    EXPECT_FALSE(result.ok()) << result.describe();
    const auto expected = fmt::format("portcullis: blocked by rule \"{}\"", rule);
    EXPECT_NE(result.stderr_text.find(expected), std::string::npos)
        << "expected " << expected << " in: " << result.stderr_text;
  }
  static std::string count_accounts() {
    return postgres_->psql_superuser("select count(*) from accounts").stdout_text;
  }

  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static std::string* reader_;
  static std::string* dba_;
};

PostgresServer* GuardrailsTest::postgres_ = nullptr;
GatewayProcess* GuardrailsTest::gateway_ = nullptr;
std::string* GuardrailsTest::reader_ = nullptr;
std::string* GuardrailsTest::dba_ = nullptr;

TEST_F(GuardrailsTest, ReaderReadsAndIsRefusedWrites) {
  auto read = as_reader("select count(*) from accounts");
  ASSERT_TRUE(read.ok()) << read.describe();
  EXPECT_EQ(read.stdout_text, "20\n");
  expect_blocked(as_reader("insert into accounts values (100, 'x', 1)"), "engineers-read");
  expect_blocked(as_reader("update accounts set balance = 0 where id = 1"), "engineers-read");
  // A writable CTE makes a SELECT a write.
  expect_blocked(
      as_reader("with d as (delete from accounts where id = 2 returning *) select * from d"),
      "engineers-read");
  expect_blocked(as_reader("select * from accounts where id = 3 for update"), "engineers-read");
  EXPECT_EQ(count_accounts(), "20\n");
}

TEST_F(GuardrailsTest, ReadOnlyIsEnforcedByTheBackendToo) {
  auto setting = as_reader("show default_transaction_read_only");
  ASSERT_TRUE(setting.ok()) << setting.describe();
  EXPECT_EQ(setting.stdout_text, "on\n");
  expect_blocked(as_reader("set default_transaction_read_only = off"), "engineers-read");
  expect_blocked(as_reader("begin read write"), "engineers-read");
  expect_blocked(as_reader("set session characteristics as transaction read write"),
                 "engineers-read");
  expect_blocked(as_reader("select set_config('default_transaction_read_only', 'off', false)"),
                 "engineers-read");
  expect_blocked(as_reader("set role postgres"), "engineers-read");
  expect_blocked(as_reader("set session authorization postgres"), "engineers-read");
}

TEST_F(GuardrailsTest, HarmlessSessionSettingsAndTransactionsPassForEveryone) {
  auto result =
      gateway_->psql("rita", *reader_,
                     {"-c", "set application_name = 'report'", "-c", "set extra_float_digits = 3",
                      "-c", "begin", "-c", "select 1", "-c", "commit"});
  EXPECT_TRUE(result.ok()) << result.describe();
}

TEST_F(GuardrailsTest, DropsAreRefusedWhateverTheirDisguise) {
  expect_blocked(as_dba("drop table accounts"), "no-drops");
  expect_blocked(as_dba("/* harmless */ DrOp /* really */ TABLE \"accounts\""), "no-drops");
  expect_blocked(as_dba("truncate accounts"), "no-drops");
  // One refused statement refuses the whole Query: the SELECT before it does not run either.
  auto smuggled = as_dba("select 'first'; drop table accounts");
  expect_blocked(smuggled, "no-drops");
  EXPECT_EQ(smuggled.stdout_text.find("first"), std::string::npos);
  // Text that only looks like a DROP is not one.
  auto quoted = as_dba("select $x$; drop table accounts; $x$ as text");
  EXPECT_TRUE(quoted.ok()) << quoted.describe();
  EXPECT_EQ(count_accounts(), "20\n");
}

TEST_F(GuardrailsTest, UnboundedWritesNeedApproval) {
  auto result = as_dba("delete from accounts");
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.stderr_text.find(
                "portcullis: approval required by rule \"unbounded-writes-need-approval\""),
            std::string::npos)
      << result.stderr_text;
  auto constant_true = as_dba("update accounts set balance = 0 where 1 = 1");
  EXPECT_NE(constant_true.stderr_text.find("approval required"), std::string::npos)
      << constant_true.stderr_text;
  // Hidden in a writable CTE, the unbounded DELETE is still one.
  auto hidden = as_dba("with d as (delete from accounts returning *) select count(*) from d");
  EXPECT_NE(hidden.stderr_text.find("approval required"), std::string::npos) << hidden.stderr_text;
  auto explained = as_dba("explain analyze delete from accounts");
  EXPECT_NE(explained.stderr_text.find("approval required"), std::string::npos)
      << explained.stderr_text;
  EXPECT_EQ(count_accounts(), "20\n");
  auto bounded = as_dba("update accounts set balance = balance + 1 where id = 5");
  EXPECT_TRUE(bounded.ok()) << bounded.describe();
}

TEST_F(GuardrailsTest, ServerFilesAreRefusedWhereverTheFunctionHides) {
  expect_blocked(as_dba("select pg_read_file('/etc/hostname')"), "no-server-files");
  expect_blocked(as_dba("select length(PG_CATALOG.PG_READ_FILE('/etc/hostname'))"),
                 "no-server-files");
  expect_blocked(
      as_dba("select * from accounts where owner = (select pg_read_file('/etc/hostname'))"),
      "no-server-files");
  expect_blocked(as_dba("copy accounts to program 'cat > /tmp/x'"), "no-server-files");
}

TEST_F(GuardrailsTest, UnparsableTextIsRefusedAsUnknown) {
  auto result = as_dba("selec * frm accounts");
  expect_blocked(result, "dba");
  EXPECT_NE(result.stderr_text.find("cannot be parsed"), std::string::npos) << result.stderr_text;
}

TEST_F(GuardrailsTest, ExtendedProtocolIsDecidedAndThePipelineGoesOn) {
  PGconn* conn = PQconnectdb(gateway_->conninfo("rita", *reader_).c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  const char* values[] = {"7"};
  PGresult* refused = PQexecParams(conn, "update accounts set balance = 0 where id = $1::int", 1,
                                   nullptr, values, nullptr, nullptr, 0);
  EXPECT_EQ(PQresultStatus(refused), PGRES_FATAL_ERROR);
  EXPECT_STREQ(PQresultErrorField(refused, PG_DIAG_SQLSTATE), "42501");
  PQclear(refused);
  PGresult* read = PQexecParams(conn, "select balance from accounts where id = $1::int", 1, nullptr,
                                values, nullptr, nullptr, 0);
  ASSERT_EQ(PQresultStatus(read), PGRES_TUPLES_OK) << PQresultErrorMessage(read);
  EXPECT_STREQ(PQgetvalue(read, 0, 0), "70");
  PQclear(read);
  // Refused at Parse: the statement is never prepared.
  PGresult* prepared = PQprepare(conn, "wipe", "delete from accounts where id = 1", 0, nullptr);
  EXPECT_EQ(PQresultStatus(prepared), PGRES_FATAL_ERROR);
  PQclear(prepared);
  PQfinish(conn);
}

TEST_F(GuardrailsTest, SqlExecuteIsDecidedAsThePreparedStatement) {
  auto result = gateway_->psql("dan", *dba_,
                               {"-v", "ON_ERROR_STOP=0", "-c",
                                "prepare wipe as delete from accounts", "-c", "execute wipe"});
  // PREPARE of an unbounded DELETE is held as the DELETE itself would be.
  EXPECT_NE(result.stderr_text.find("approval required"), std::string::npos) << result.stderr_text;
  EXPECT_EQ(count_accounts(), "20\n");
}

TEST_F(GuardrailsTest, UnsafeClientEncodingsAreRefusedAtStartup) {
  for (const char* encoding : {"WIN932", "mskanji", "S-J-I-S", "shiftjis2004", "big5", "GBK"}) {
    auto result = gateway_->psql("rita", *reader_, {"-c", "select 1"}, "app-db",
                                 fmt::format("client_encoding={}", encoding));
    EXPECT_FALSE(result.ok()) << encoding;
    EXPECT_NE(result.stderr_text.find("is not accepted"), std::string::npos)
        << encoding << ": " << result.stderr_text;
  }
  auto latin =
      gateway_->psql("rita", *reader_, {"-c", "select 1"}, "app-db", "client_encoding=LATIN1");
  EXPECT_TRUE(latin.ok()) << latin.describe();
}

TEST_F(GuardrailsTest, SettingsThatChangeHowTextIsReadCannotBeChanged) {
  expect_blocked(as_dba("select set_config('standard_conforming_strings', 'off', false)"), "dba");
  expect_blocked(as_dba("set client_encoding = 'SJIS'"), "dba");
  expect_blocked(as_dba("alter database app set standard_conforming_strings = off"), "dba");
}

TEST_F(GuardrailsTest, ExecuteArgumentsAndExplainAnalyzeExecuteAreDecidedToo) {
  auto lifted =
      gateway_->psql("rita", *reader_,
                     {"-v", "ON_ERROR_STOP=0", "-c", "prepare p(text) as select $1", "-c",
                      "execute p(set_config('default_transaction_read_only', 'off', false))", "-c",
                      "show default_transaction_read_only"});
  EXPECT_NE(lifted.stderr_text.find("blocked by rule \"engineers-read\""), std::string::npos)
      << lifted.stderr_text;
  EXPECT_NE(lifted.stdout_text.find("on"), std::string::npos) << lifted.stdout_text;
  auto explained =
      gateway_->psql("dan", *dba_,
                     {"-v", "ON_ERROR_STOP=0", "-c", "prepare wipe2 as delete from accounts", "-c",
                      "explain analyze execute wipe2"});
  EXPECT_NE(explained.stderr_text.find("approval required"), std::string::npos)
      << explained.stderr_text;
  EXPECT_EQ(count_accounts(), "20\n");
}

TEST_F(GuardrailsTest, MergeAndServerFilesCannotSlipPast) {
  auto merged = as_dba(
      "merge into accounts using (select 1) s on true when matched then update set balance = 0");
  EXPECT_NE(merged.stderr_text.find("approval required"), std::string::npos) << merged.stderr_text;
  expect_blocked(as_dba("copy accounts from '/etc/hostname'"), "no-server-files");
  expect_blocked(as_dba("do $$ begin perform 1; end $$"), "no-server-files");
}

TEST(GuardrailsReloadTest, SighupAppliesNewRulesAtTheNextCommandAndKeepsOldOnError) {
  PostgresServer postgres;
  GatewayProcess gateway(postgres, reference_policy());
  auto token = gateway.cli({"token", "issue", "--subject", "dan", "--group", "dba"});
  ASSERT_TRUE(token.ok());
  std::string dba = token.stdout_text;
  dba.erase(dba.find_last_not_of("\r\n") + 1);
  PGconn* conn = PQconnectdb(gateway.conninfo("dan", dba).c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  auto run = [&](const char* sql) {
    PGresult* result = PQexec(conn, sql);
    const auto status = PQresultStatus(result);
    PQclear(result);
    return status;
  };
  EXPECT_EQ(run("select now()"), PGRES_TUPLES_OK);

  auto stricter = reference_policy();
  stricter.guardrails_section +=
      "  - name: no-clock\n    when: { functions: [now] }\n    action: deny\n";
  ASSERT_TRUE(gateway.reload(stricter));
  EXPECT_EQ(run("select now()"), PGRES_FATAL_ERROR);
  EXPECT_NE(std::string(PQerrorMessage(conn)).find("no-clock"), std::string::npos);

  // A broken file is refused with FILE:LINE and the rules in force stay.
  std::ofstream(gateway.config_file()) << "listen: [\n";
  gateway.process().send_signal(SIGHUP);
  ASSERT_TRUE(gateway.process().wait_for_output("event=reload_failed", 10s));
  EXPECT_NE(gateway.process().stderr_text().find("portcullis.yaml:"), std::string::npos);
  EXPECT_EQ(run("select now()"), PGRES_FATAL_ERROR);
  EXPECT_EQ(run("select 1"), PGRES_TUPLES_OK);
  PQfinish(conn);
}

}  // namespace
}  // namespace portcullis::testing
