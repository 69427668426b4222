// Routes around the controls, tried as a hostile client would: the raw protocol in orders no
// library uses, renamed and computed columns, functions and cursors that run other text. Each
// test fails when the control it attacks is removed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway_fixture.h"
#include "support/child_process.h"
#include "support/pg_wire_client.h"
#include "support/postgres_server.h"

namespace portcullis::testing {
namespace {

constexpr const char* kConfig =
    "access:\n"
    "  - name: support\n"
    "    who: { groups: [support] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read, write]\n"
    "    masking: default\n"
    "  - name: analysts\n"
    "    who: { groups: [analysts] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read]\n"
    "    masking: default\n"
    "  - name: operators\n"
    "    who: { groups: [operators] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read, write, ddl, dcl, admin]\n"
    "    masking: default\n"
    "  - name: dba\n"
    "    who: { groups: [dba] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read, write, ddl, dcl, admin]\n"
    "    masking: none\n"
    "masking:\n"
    "  profiles:\n"
    "    default:\n"
    "      detectors: [email, credit_card, us_ssn, phone, iban]\n"
    "      columns:\n"
    "        - { match: \"*.password*\", action: redact }\n"
    "        - { match: \"customers.secret_note\", action: redact }\n";

constexpr const char* kAdversarialGuardrails =
    "guardrails:\n"
    "  - name: deletes-need-approval\n"
    "    when: { statements: [delete] }\n"
    "    action: review\n"
    "    reviewers: { groups: [dba] }\n"
    "    wait: 1s\n";

// Values that must never reach the support and analyst grants in plain text.
const std::vector<std::string> kSecrets = {"ada@example.com", "4111 1111 1111 1111",
                                           "123-45-6789",     "x9$secret",
                                           "hunter2",         "launch codes 0000"};

class AdversarialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    auto setup = postgres_->psql_superuser(
        "create table customers (id int primary key, email text, card text, ssn text, "
        "password_hash text, secret_note text);"
        "insert into customers values "
        "(1, 'ada@example.com', '4111 1111 1111 1111', '123-45-6789', 'x9$secret', "
        "'launch codes 0000'),"
        "(2, 'zoe@example.org', '5500-0000-0000-0004', '234-56-7890', 'hunter2', 'nothing');"
        "create table victims (id int);"
        "insert into victims select generate_series(1, 3);"
        "alter table customers owner to " +
        postgres_->scram_role().name +
        ";"
        "alter table victims owner to " +
        postgres_->scram_role().name + ";");
    ASSERT_TRUE(setup.ok()) << setup.describe();
    GatewayOptions options;
    options.access_section = kConfig;
    options.guardrails_section = kAdversarialGuardrails;
    options.extra_sections = "reviews:\n  grant_lifetime: 15m\n";
    options.http_listener = true;
    gateway_ = new GatewayProcess(*postgres_, options);
    support_ = new std::string(gateway_->token_for("sam", "support"));
    analyst_ = new std::string(gateway_->token_for("ann", "analysts"));
    dba_ = new std::string(gateway_->token_for("dan", "dba"));
  }
  static void TearDownTestSuite() {
    delete dba_;
    delete analyst_;
    delete support_;
    delete gateway_;
    delete postgres_;
  }

  static void expect_no_secret(const std::string& text) {
    for (const auto& secret : kSecrets)
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " leaked in:\n" << text;
  }
  static std::string everything(const std::vector<WireMessage>& messages) {
    std::string text = rows_text(messages);
    for (const auto& message : messages)
      if (message.type == 'E' || message.type == 'N') text += error_fields_text(message.body);
    return text;
  }
  static int victims() {
    auto count = gateway_->psql("dan", *dba_, {"-c", "select count(*) from victims"});
    EXPECT_TRUE(count.ok()) << count.describe();
    return std::stoi(count.stdout_text);
  }

  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static std::string* support_;
  static std::string* analyst_;
  static std::string* dba_;
};

PostgresServer* AdversarialTest::postgres_ = nullptr;
GatewayProcess* AdversarialTest::gateway_ = nullptr;
std::string* AdversarialTest::support_ = nullptr;
std::string* AdversarialTest::analyst_ = nullptr;
std::string* AdversarialTest::dba_ = nullptr;

// A three-column result described, then a PII result of the same width executed with no
// Describe: the gateway once masked it with the first result's plan.
TEST_F(AdversarialTest, AnExecuteWithoutDescribeIsMaskedByItsOwnDescription) {
  PgWireClient client(gateway_->port(), "sam", *support_, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  client.send(PgWireClient::parse("three", "select 1, 2, 3") + PgWireClient::bind("", "three") +
              PgWireClient::describe('P', "") + PgWireClient::execute("") + PgWireClient::sync());
  auto first = client.read_until_ready();
  ASSERT_TRUE(has_message(first, 'T'));
  client.send(PgWireClient::parse("pii", "select id, email, card, ssn from customers order by id") +
              PgWireClient::bind("", "pii") + PgWireClient::execute("") + PgWireClient::sync());
  auto second = client.read_until_ready();
  ASSERT_TRUE(has_message(second, 'Z'));
  ASSERT_TRUE(has_message(second, 'D')) << "the rows were withheld: " << everything(second);
  // The client did not ask for a description and gets none: the gateway's stays with it.
  EXPECT_FALSE(has_message(second, 'T'));
  expect_no_secret(everything(second));
  EXPECT_EQ(rows_text(second).substr(0, 2), "1|") << "not the expected rows";
}

TEST_F(AdversarialTest, AResumedPortalIsMaskedWithoutADescribe) {
  PgWireClient client(gateway_->port(), "sam", *support_, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  client.send(PgWireClient::query("begin"));
  client.read_until_ready();
  // One row per Execute: the second Execute resumes the suspended portal, undescribed.
  client.send(PgWireClient::parse("pii", "select email, password_hash from customers order by id") +
              PgWireClient::bind("cur", "pii") + PgWireClient::describe('P', "cur") +
              PgWireClient::execute("cur", 1) + PgWireClient::execute("cur", 1) +
              PgWireClient::sync());
  auto messages = client.read_until_ready();
  ASSERT_TRUE(has_message(messages, 's')) << everything(messages);
  expect_no_secret(everything(messages));
  client.send(PgWireClient::query("rollback"));
  client.read_until_ready();
}

TEST_F(AdversarialTest, BinaryResultsWithoutDescribeAreMaskedOrWithheld) {
  PgWireClient client(gateway_->port(), "sam", *support_, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  client.send(PgWireClient::parse("pii", "select email, ssn, password_hash from customers") +
              PgWireClient::bind("", "pii", {}, 1) + PgWireClient::execute("") +
              PgWireClient::sync());
  expect_no_secret(everything(client.read_until_ready()));
}

TEST_F(AdversarialTest, ARenamedColumnKeepsItsRule) {
  auto result = gateway_->psql(
      "sam", *support_,
      {"-c", "select password_hash as p, secret_note as n, ssn as x from customers order by id"});
  ASSERT_TRUE(result.ok()) << result.describe();
  expect_no_secret(result.stdout_text);
  // The same through a subquery and a CTE: the backend names the origin column.
  result =
      gateway_->psql("sam", *support_,
                     {"-c", "with c as (select password_hash as a from customers) select a from c",
                      "-c", "select b from (select secret_note as b from customers) s"});
  ASSERT_TRUE(result.ok()) << result.describe();
  expect_no_secret(result.stdout_text);
}

TEST_F(AdversarialTest, AnErrorDoesNotEchoAMaskedValue) {
  auto result = gateway_->psql(
      "sam", *support_,
      {"-v", "VERBOSITY=verbose", "-c", "select password_hash::int from customers where id = 1"});
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.stderr_text.find("22P02"), std::string::npos) << result.stderr_text;
  expect_no_secret(result.stderr_text);
  PgWireClient client(gateway_->port(), "sam", *support_, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  client.send(PgWireClient::query("select secret_note::date from customers where id = 1"));
  expect_no_secret(everything(client.read_until_ready()));
}

// SQL FETCH can run a portal made with Bind: an unbounded DELETE prepared and bound without an
// Execute once ran that way with no review, and the journal showed only the FETCH.
TEST_F(AdversarialTest, AFetchOfAProtocolPortalIsDecidedAsItsStatement) {
  ASSERT_EQ(victims(), 3);
  PgWireClient client(gateway_->port(), "sam", *support_, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  client.send(PgWireClient::query("begin"));
  client.read_until_ready();
  // RETURNING makes the portal one that FETCH can run.
  client.send(PgWireClient::parse("del", "delete from victims returning id") +
              PgWireClient::bind("p", "del") + PgWireClient::sync());
  auto bound = client.read_until_ready();
  ASSERT_TRUE(has_message(bound, '2')) << everything(bound);
  client.send(PgWireClient::query("fetch all from p"));
  auto fetched = client.read_until_ready();
  // Held for review, which nobody gives within the guardrail's second: refused.
  ASSERT_TRUE(has_message(fetched, 'N')) << everything(fetched);
  ASSERT_TRUE(has_message(fetched, 'E')) << everything(fetched);
  EXPECT_NE(everything(fetched).find("review"), std::string::npos) << everything(fetched);
  client.send(PgWireClient::query("commit"));
  client.read_until_ready();
  EXPECT_EQ(victims(), 3);
}

// Functions that run SQL given as text hid what they ran: through them a read grant lifted
// read-only, ended another session and wrote. The text is classified when it is a constant,
// and anything not known to be side-effect free is not `read`.
TEST_F(AdversarialTest, FunctionsThatRunTextOrHaveSideEffectsAreNotRead) {
  ASSERT_TRUE(postgres_
                  ->psql_superuser("create sequence if not exists order_numbers;"
                                   "create or replace function shout(t text) returns text "
                                   "language sql as 'select upper(t)'")
                  .ok());
  PgWireClient client(gateway_->port(), "ann", *analyst_, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  for (const char* sql : {
           "select query_to_xml('select set_config(''default_transaction_read_only'', ''off'', "
           "false)', true, true, '')",
           "select query_to_xml('select pg_terminate_backend(pg_backend_pid())', true, true, '')",
           "select query_to_xml('delete from victims returning id', true, true, '')",
           "select query_to_xml(chr(115) || 'elect 1', true, true, '')",
           "select nextval('order_numbers')",
           "select setval('order_numbers', 1)",
           "select pg_notify('news', 'x')",
           "select shout('x')",
           "select public.lower('X')",
       }) {
    client.send(PgWireClient::query(sql));
    auto answer = client.read_until_ready();
    EXPECT_TRUE(has_message(answer, 'E')) << sql;
    EXPECT_NE(everything(answer).find("portcullis: blocked"), std::string::npos)
        << sql << ": " << everything(answer);
  }
  // What a read grant needs still works, set_config of a harmless setting among it.
  client.send(PgWireClient::query(
      "select pg_catalog.set_config('search_path', '', false), count(*), now() is not null, "
      "lower('X') from public.victims"));
  auto fine = client.read_until_ready();
  EXPECT_FALSE(has_message(fine, 'E')) << everything(fine);
}

// A read-only grant cannot have a write prepared for it, even one a guardrail would hold.
TEST_F(AdversarialTest, AParseTheGrantRefusesIsNotForwarded) {
  PgWireClient client(gateway_->port(), "ann", *analyst_, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  client.send(PgWireClient::parse("del", "delete from victims") + PgWireClient::bind("p", "del") +
              PgWireClient::sync());
  auto answer = client.read_until_ready();
  ASSERT_TRUE(has_message(answer, 'E')) << everything(answer);
  EXPECT_NE(everything(answer).find("write statements are not allowed"), std::string::npos)
      << everything(answer);
  EXPECT_FALSE(has_message(answer, '1'));  // no ParseComplete: the backend never saw it
  EXPECT_EQ(victims(), 3);
}

// A statement's parse costs about a hundred times its size: texts over the limit are refused
// before they are parsed, by either protocol, and the session goes on.
TEST_F(AdversarialTest, AStatementOverTheLimitIsRefusedBeforeItIsParsed) {
  GatewayOptions options;
  options.access_section = kConfig;
  options.limits_section = "limits:\n  max_statement_size: 4KiB\n";
  GatewayProcess small(*postgres_, options);
  const auto token = small.token_for("sam", "support");
  PgWireClient client(small.port(), "sam", token, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  const std::string large = "select '" + std::string(5000, 'x') + "'";
  client.send(PgWireClient::query(large));
  auto simple = client.read_until_ready();
  ASSERT_TRUE(has_message(simple, 'E')) << everything(simple);
  EXPECT_NE(everything(simple).find("limits.max_statement_size"), std::string::npos);
  EXPECT_NE(everything(simple).find("C=54000"), std::string::npos);
  client.send(PgWireClient::parse("", large) + PgWireClient::bind("", "") +
              PgWireClient::execute("") + PgWireClient::sync());
  auto extended = client.read_until_ready();
  ASSERT_TRUE(has_message(extended, 'E')) << everything(extended);
  EXPECT_FALSE(has_message(extended, '1'));  // never parsed by the backend either
  client.send(PgWireClient::query("select 42"));
  auto after = client.read_until_ready();
  EXPECT_EQ(rows_text(after), "42|\n");
}

// An approval is for the text and the values bound to it: one given for (1, false) once ran
// the same text with (1, true), which deletes every row.
TEST_F(AdversarialTest, AnApprovalIsBoundToTheParameterValues) {
  ASSERT_EQ(victims(), 3);
  const std::string text = "delete from victims where id = $1 or $2";
  auto run = [&](const std::string& id, const std::string& flag) {
    PgWireClient client(gateway_->port(), "sam", *support_, "app-db");
    EXPECT_TRUE(client.ok()) << client.login_error();
    client.send(PgWireClient::parse("", text) + PgWireClient::bind("", "", {id, flag}) +
                PgWireClient::execute("") + PgWireClient::sync());
    return client.read_until_ready();
  };
  // Held, not decided within the guardrail's second: the review stays pending.
  auto held = run("1", "false");
  std::string review_id;
  for (const auto& message : held) {
    if (message.type != 'N') continue;
    const std::string notice = error_message(message.body);
    const auto at = notice.find("review ");
    if (at != std::string::npos) review_id = notice.substr(at + 7, notice.find(';', at) - at - 7);
  }
  ASSERT_FALSE(review_id.empty()) << everything(held);
  const std::string api = "http://127.0.0.1:" + std::to_string(gateway_->http_port());
  // The reviewer sees the values, not only the text.
  auto shown = gateway_->cli({"review", "show", review_id, "--api", api, "--token", *dba_});
  ASSERT_TRUE(shown.ok()) << shown.describe();
  EXPECT_NE(shown.stdout_text.find("$2 = 'false'"), std::string::npos) << shown.stdout_text;
  auto approved = gateway_->cli(
      {"review", "approve", review_id, "--comment", "one row", "--api", api, "--token", *dba_});
  ASSERT_TRUE(approved.ok()) << approved.describe();
  // Other values are another statement: held again, and refused when nobody approves them.
  auto other = run("1", "true");
  EXPECT_TRUE(has_message(other, 'E')) << everything(other);
  EXPECT_EQ(victims(), 3);
  // The approved values run, once.
  auto approved_run = run("1", "false");
  EXPECT_FALSE(has_message(approved_run, 'E')) << everything(approved_run);
  EXPECT_EQ(victims(), 2);
}

// Texts over 16 KiB are classified on the classifier's own thread: they are decided and run
// as any other, by either protocol, and a refused one stays refused.
TEST_F(AdversarialTest, LargeStatementsAreDecidedOffTheIoThread) {
  PgWireClient client(gateway_->port(), "sam", *support_, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  const std::string padding(100 * 1024, 'x');
  const std::string select = "select length('" + padding + "'), email from customers where id = 1";
  client.send(PgWireClient::query(select));
  auto simple = client.read_until_ready();
  EXPECT_NE(rows_text(simple).find("102400|"), std::string::npos) << everything(simple);
  expect_no_secret(everything(simple));
  client.send(PgWireClient::parse("", select) + PgWireClient::bind("", "") +
              PgWireClient::execute("") + PgWireClient::sync());
  auto extended = client.read_until_ready();
  EXPECT_NE(rows_text(extended).find("102400|"), std::string::npos) << everything(extended);
  expect_no_secret(everything(extended));
  // A large write the grant refuses is refused.
  const int before = victims();
  PgWireClient reader(gateway_->port(), "ann", *analyst_, "app-db");
  ASSERT_TRUE(reader.ok()) << reader.login_error();
  reader.send(PgWireClient::query("insert into victims select length('" + padding + "')"));
  auto refused = reader.read_until_ready();
  EXPECT_NE(everything(refused).find("write statements are not allowed"), std::string::npos)
      << everything(refused);
  EXPECT_EQ(victims(), before);
}

// A stock tool through a read grant: pg_dump of the whole database works, and what it dumps is
// masked by the grant's profile — a masked copy of production in one command, restorable.
TEST_F(AdversarialTest, PgDumpThroughAReadGrantGivesAMaskedRestorableCopy) {
  auto setup = postgres_->psql_superuser(
      "create sequence if not exists order_numbers; select nextval('order_numbers');"
      "create or replace view customer_emails as select id, email from customers;"
      "alter sequence order_numbers owner to " +
      postgres_->scram_role().name + "; alter view customer_emails owner to " +
      postgres_->scram_role().name + ";");
  ASSERT_TRUE(setup.ok()) << setup.describe();
  auto dump = [&](std::vector<std::string> extra) {
    ChildOptions child;
    child.argv = {pg_bin("pg_dump").string(), "--no-owner", "--no-privileges", "-d",
                  gateway_->conninfo("ann", "", "app-db")};
    child.argv.insert(child.argv.end(), extra.begin(), extra.end());
    child.env = {{"PGPASSWORD", *analyst_}, {"PGCONNECT_TIMEOUT", "10"}};
    child.unset_env = {"PGSSLMODE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"};
    child.working_dir = gateway_->dir();
    return run_command(std::move(child), std::chrono::seconds(120));
  };
  auto plain = dump({});
  ASSERT_TRUE(plain.ok()) << plain.describe();
  EXPECT_NE(plain.stdout_text.find("COPY public.customers"), std::string::npos);
  EXPECT_NE(plain.stdout_text.find("\n2\t"), std::string::npos) << "rows missing";
  expect_no_secret(plain.stdout_text);

  const auto archive = gateway_->dir() / "masked.dump";
  auto custom = dump({"-Fc", "-f", archive.string()});
  ASSERT_TRUE(custom.ok()) << custom.describe();
  ASSERT_TRUE(postgres_
                  ->psql_superuser("drop database if exists restored; create database "
                                   "restored")
                  .ok());
  auto restore = run_command({pg_bin("pg_restore").string(), "--no-owner", "-d",
                              postgres_->superuser_conninfo("restored"), archive.string()});
  ASSERT_TRUE(restore.ok()) << restore.describe();
  auto restored = postgres_->psql_superuser(
      "select count(*) from customers; select * from customers; select * from customer_emails;"
      "select last_value from order_numbers",
      "restored");
  ASSERT_TRUE(restored.ok()) << restored.describe();
  EXPECT_EQ(restored.stdout_text.substr(0, 2), "2\n") << restored.stdout_text;
  expect_no_secret(restored.stdout_text);
}

// Values also travel in NotificationResponse payloads (pg_notify from another session) and in
// ParameterStatus (a reported setting set from a column).
TEST_F(AdversarialTest, NotificationsAndReportedSettingsAreMasked) {
  PgWireClient listener(gateway_->port(), "sam", *support_, "app-db");
  ASSERT_TRUE(listener.ok()) << listener.login_error();
  listener.send(PgWireClient::query("listen news"));
  listener.read_until_ready();
  auto notify = gateway_->psql("dan", *dba_, {"-c", "notify news, 'ada@example.com'"});
  ASSERT_TRUE(notify.ok()) << notify.describe();
  // Delivered while the listener is idle, at the latest before its next ReadyForQuery.
  listener.send(PgWireClient::query("select 1"));
  auto answer = listener.read_until_ready();
  bool notified = false;
  for (const auto& message : answer) {
    if (message.type != 'A') continue;
    notified = true;
    EXPECT_EQ(message.body.find("ada@example.com"), std::string::npos) << message.body;
  }
  EXPECT_TRUE(notified) << everything(answer);

  PgWireClient client(gateway_->port(), "sam", *support_, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  for (const char* sql :
       {"select set_config('application_name', password_hash, false) from customers where id = 1",
        "set application_name = 'ada@example.com'"}) {
    client.send(PgWireClient::query(sql));
    auto reported = client.read_until_ready();
    bool seen = false;
    for (const auto& message : reported) {
      if (message.type != 'S') continue;
      seen = true;
      EXPECT_EQ(message.body.find("x9$secret"), std::string::npos) << sql;
      EXPECT_EQ(message.body.find("ada@example.com"), std::string::npos) << sql;
    }
    EXPECT_TRUE(seen) << sql << ": " << everything(reported);
    expect_no_secret(everything(reported));
  }
}

// A fast-path FunctionCall's result is a value like any other: masked, whole under column
// rules since the function is known by number only.
TEST_F(AdversarialTest, AFunctionCallResultIsMasked) {
  auto oid = postgres_->psql_superuser("select 'pg_catalog.textcat(text,text)'::regprocedure::oid");
  ASSERT_TRUE(oid.ok()) << oid.describe();
  const auto token = gateway_->token_for("otto", "operators");
  PgWireClient client(gateway_->port(), "otto", token, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  client.send(PgWireClient::function_call(static_cast<uint32_t>(std::stoul(oid.stdout_text)),
                                          {"ada@", "example.com"}));
  auto answer = client.read_until_ready();
  ASSERT_TRUE(has_message(answer, 'V')) << everything(answer);
  for (const auto& message : answer) {
    if (message.type == 'V') {
      EXPECT_EQ(message.body.find("ada@example.com"), std::string::npos) << message.body;
    }
  }
}

// "Unbounded" writes hide behind a WHERE that is not constant (`id > 0`, `LIKE '%'`): a
// guardrail on the rows the planner expects a write to touch holds them, with bound values and
// a session's own search_path taken into account, and fails closed where it cannot follow.
TEST_F(AdversarialTest, AWriteEstimatedOverTheBoundIsHeld) {
  auto setup = postgres_->psql_superuser(
      "create table big (id int); insert into big select generate_series(1, 1000); analyze big;"
      "create schema tiny; create table tiny.big (id int); insert into tiny.big values (1), (2);"
      "analyze tiny.big;"
      "alter table big owner to " +
      postgres_->scram_role().name + "; alter schema tiny owner to " +
      postgres_->scram_role().name + "; alter table tiny.big owner to " +
      postgres_->scram_role().name + ";");
  ASSERT_TRUE(setup.ok()) << setup.describe();
  GatewayOptions options;
  options.access_section = kConfig;
  options.guardrails_section =
      "guardrails:\n"
      "  - name: big-writes\n"
      "    when: { statements: [update, delete], rows_over: 100 }\n"
      "    action: review\n"
      "    reviewers: { groups: [dba] }\n"
      "    wait: 1s\n";
  GatewayProcess gateway(*postgres_, options);
  const auto token = gateway.token_for("sam", "support");
  auto held = [&](const std::vector<WireMessage>& answer) {
    return everything(answer).find("big-writes") != std::string::npos;
  };
  PgWireClient client(gateway.port(), "sam", token, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  client.send(PgWireClient::query("update big set id = id where id > 0"));
  EXPECT_TRUE(held(client.read_until_ready()));
  client.send(PgWireClient::query("update big set id = id where id = 5"));
  auto small = client.read_until_ready();
  EXPECT_FALSE(held(small)) << everything(small);
  EXPECT_FALSE(has_message(small, 'E')) << everything(small);
  // The extended protocol's values are part of the estimate.
  const std::string ranged = "update big set id = id where id > $1";
  client.send(PgWireClient::parse("", ranged) + PgWireClient::bind("", "", {"0"}) +
              PgWireClient::execute("") + PgWireClient::sync());
  EXPECT_TRUE(held(client.read_until_ready()));
  client.send(PgWireClient::parse("", ranged) + PgWireClient::bind("", "", {"995"}) +
              PgWireClient::execute("") + PgWireClient::sync());
  auto few = client.read_until_ready();
  EXPECT_FALSE(has_message(few, 'E')) << everything(few);
  // A write in a multi-statement text is estimated on its own.
  client.send(PgWireClient::query("select 1; update big set id = id where id > 0"));
  EXPECT_TRUE(held(client.read_until_ready()));
  // Names resolve as in the session: here `big` is tiny.big, with two rows.
  client.send(PgWireClient::query("set search_path = tiny, public"));
  client.read_until_ready();
  client.send(PgWireClient::query("update big set id = id where id > 0"));
  auto tiny = client.read_until_ready();
  EXPECT_FALSE(has_message(tiny, 'E')) << everything(tiny);
  // A search_path set in a transaction that is rolled back is not followed: unknown, held.
  client.send(PgWireClient::query("reset search_path"));
  client.read_until_ready();
  client.send(PgWireClient::query("begin"));
  client.read_until_ready();
  client.send(PgWireClient::query("set search_path = tiny, public"));
  client.read_until_ready();
  client.send(PgWireClient::query("rollback"));
  client.read_until_ready();
  client.send(PgWireClient::query("update big set id = id where id > 0"));
  EXPECT_TRUE(held(client.read_until_ready()));
}

}  // namespace
}  // namespace portcullis::testing
