// End to end: the audit journal of the real gateway in front of a real PostgreSQL — what each
// statement, outcome and session leaves in it, that it holds everything the backend ran (even
// after kill -9), and that nothing runs while it cannot be written.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "audit/segment_files.h"
#include "gateway_fixture.h"
#include "store/journal_store.h"
#include "support/child_process.h"
#include "support/full_disk.h"
#include "support/pg_wire_client.h"
#include "support/postgres_server.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;
using store::Field;
using store::JournalRecord;

std::string value(const JournalRecord& record, Field field) {
  return record[field].value_or("");
}

std::vector<JournalRecord> journal_records(const GatewayProcess& gateway,
                                           store::JournalFilter filter = {}) {
  auto journal = store::open_journal_store(gateway.state_url(), {});
  if (!journal) {
    ADD_FAILURE() << journal.error().message;
    return {};
  }
  auto records = (*journal)->search(filter);
  if (!records) {
    ADD_FAILURE() << records.error().message;
    return {};
  }
  return std::move(*records);
}

// Result records are committed in groups, shortly after their statements: wait for them.
std::vector<JournalRecord> wait_for_records(const GatewayProcess& gateway,
                                            const std::function<bool(const JournalRecord&)>& match,
                                            std::size_t count,
                                            std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<JournalRecord> found;
  for (;;) {
    found.clear();
    for (auto& record : journal_records(gateway))
      if (match(record)) found.push_back(std::move(record));
    if (found.size() >= count || std::chrono::steady_clock::now() > deadline) return found;
    std::this_thread::sleep_for(50ms);
  }
}

const JournalRecord* find_record(const std::vector<JournalRecord>& records, std::string_view event,
                                 std::string_view command) {
  for (const auto& record : records)
    if (value(record, Field::event) == event && value(record, Field::command) == command)
      return &record;
  return nullptr;
}

const JournalRecord* result_of(const std::vector<JournalRecord>& records,
                               const JournalRecord& statement) {
  for (const auto& record : records)
    if (value(record, Field::event) == "result" &&
        value(record, Field::statement) == value(statement, Field::id))
      return &record;
  return nullptr;
}

// Statement text compared without the whitespace and semicolons that clients and the parser
// place differently.
std::string normalised(std::string_view text) {
  std::string out;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c)) && c != ';') out += c;
  return out;
}

// What the backend logged as run (log_statement = all) by `user`: "statement: TEXT" for the
// simple protocol and "execute NAME: TEXT" for the extended one, continuation lines joined.
std::vector<std::string> backend_statements(const PostgresServer& postgres,
                                            const std::string& user) {
  std::istringstream log(postgres.log_text());
  std::vector<std::string> statements;
  std::string line;
  const std::string prefix = user + "@";
  bool continuing = false;
  while (std::getline(log, line)) {
    if (continuing && !line.empty() && line[0] == '\t') {
      statements.back() += "\n" + line.substr(1);
      continue;
    }
    continuing = false;
    if (line.rfind(prefix, 0) != 0) continue;
    const auto logged = line.find("LOG:  ");
    if (logged == std::string::npos) continue;
    const auto what = line.substr(logged + 6);
    if (what.rfind("statement: ", 0) == 0) {
      statements.push_back(what.substr(11));
      continuing = true;
    } else if (what.rfind("execute ", 0) == 0) {
      const auto colon = what.find(": ");
      if (colon == std::string::npos) continue;
      statements.push_back(what.substr(colon + 2));
      continuing = true;
    }
  }
  return statements;
}

// Every statement the backend ran is in the journal, allowed, as often as it ran. A Query
// with several statements is logged whole by the backend and recorded statement by statement:
// it matches consecutive statement records of one session.
void expect_journal_covers(const std::vector<std::string>& ran,
                           const std::vector<JournalRecord>& records) {
  std::map<std::string, std::vector<std::string>> by_session;  // normalised texts in order
  std::map<std::string, int> available;
  for (const auto& record : records) {
    if (value(record, Field::event) != "statement" || value(record, Field::verdict) != "allow")
      continue;
    const auto text = normalised(value(record, Field::command));
    by_session[value(record, Field::session)].push_back(text);
    ++available[text];
  }
  std::size_t missing = 0;
  for (const auto& statement : ran) {
    const auto text = normalised(statement);
    if (available[text] > 0) {
      --available[text];
      continue;
    }
    bool joined = false;
    for (const auto& [session, texts] : by_session) {
      for (std::size_t start = 0; start < texts.size() && !joined; ++start) {
        std::string concatenated;
        for (std::size_t end = start; end < texts.size() && concatenated.size() < text.size();
             ++end) {
          concatenated += texts[end];
          if (concatenated == text) joined = true;
        }
      }
      if (joined) break;
    }
    if (!joined) {
      ++missing;
      ADD_FAILURE() << "the backend ran a statement the journal does not hold: " << statement;
      if (missing > 5) return;
    }
  }
}

RunResult run_pgbench(const GatewayProcess& gateway, const std::string& token,
                      std::vector<std::string> args, std::chrono::seconds timeout = 300s) {
  ChildOptions bench;
  bench.argv = {pg_bin("pgbench").string()};
  bench.argv.insert(bench.argv.end(), args.begin(), args.end());
  bench.argv.push_back(gateway.conninfo("alice", ""));
  bench.env = {{"PGPASSWORD", token}};
  return run_command(std::move(bench), timeout);
}

PostgresOptions logging_postgres() {
  PostgresOptions options;
  options.log_statements = true;
  options.extra_conf = {"log_line_prefix = '%u@%d '"};
  return options;
}

// A grant of `read` alone: the gateway opens the backend session read-only.
GatewayOptions read_only_grant() {
  GatewayOptions options;
  options.access_section =
      "access:\n"
      "  - name: readers\n"
      "    who: { groups: [testers] }\n"
      "    connections: [app-db]\n"
      "    credentials: default\n"
      "    allow: [read]\n";
  return options;
}

class AuditTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    GatewayOptions options;
    options.guardrails_section =
        "guardrails:\n"
        "  - name: no-drops\n"
        "    when: { statements: [drop_table] }\n"
        "    action: deny\n"
        "    message: dropping tables is not allowed\n";
    gateway_ = new GatewayProcess(*postgres_, options);
    token_ = new std::string(gateway_->issue_token("alice"));
  }
  static void TearDownTestSuite() {
    delete token_;
    delete gateway_;
    delete postgres_;
  }

  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static std::string* token_;
};

PostgresServer* AuditTest::postgres_ = nullptr;
GatewayProcess* AuditTest::gateway_ = nullptr;
std::string* AuditTest::token_ = nullptr;

TEST_F(AuditTest, RecordsEachStatementItsOutcomeAndTheSession) {
  auto result = gateway_->psql(
      "alice", *token_,
      {"-c", "create table audit_people (id int, email text)", "-c",
       "insert into audit_people values (1, 'ada@example.com'), (2, 'bob@example.com')", "-c",
       "select id, email from audit_people order by id", "-c", "select 1/0"});
  ASSERT_FALSE(result.ok());  // the last statement fails, as it should
  ASSERT_NE(result.stderr_text.find("division by zero"), std::string::npos) << result.describe();

  auto records = wait_for_records(
      *gateway_, [](const JournalRecord& r) { return value(r, Field::subject) == "alice"; }, 10);
  const auto* create =
      find_record(records, "statement", "create table audit_people (id int, email text)");
  const auto* insert =
      find_record(records, "statement",
                  "insert into audit_people values (1, 'ada@example.com'), (2, 'bob@example.com')");
  const auto* select =
      find_record(records, "statement", "select id, email from audit_people order by id");
  const auto* divide = find_record(records, "statement", "select 1/0");
  ASSERT_NE(create, nullptr);
  ASSERT_NE(insert, nullptr);
  ASSERT_NE(select, nullptr);
  ASSERT_NE(divide, nullptr);
  EXPECT_EQ(value(*select, Field::verdict), "allow");
  EXPECT_EQ(value(*select, Field::kinds), "[\"select\"]");
  EXPECT_EQ(value(*select, Field::classes), "[\"read\"]");
  EXPECT_EQ(value(*select, Field::auth), "gateway_token");
  EXPECT_EQ(value(*select, Field::connection), "app-db");
  EXPECT_EQ(value(*select, Field::protocol), "postgres");
  EXPECT_FALSE(value(*select, Field::fingerprint).empty());
  EXPECT_NE(value(*select, Field::groups).find("testers"), std::string::npos);

  const auto* inserted = result_of(records, *insert);
  ASSERT_NE(inserted, nullptr);
  EXPECT_EQ(value(*inserted, Field::rows), "2");
  EXPECT_EQ(value(*inserted, Field::error), "");
  const auto* selected = result_of(records, *select);
  ASSERT_NE(selected, nullptr);
  EXPECT_EQ(value(*selected, Field::rows), "2");
  EXPECT_GT(std::stoll(value(*selected, Field::bytes_out)), 0);
  ASSERT_FALSE(value(*selected, Field::results_sha256).empty());
  auto journal = store::open_journal_store(gateway_->state_url(), {});
  ASSERT_TRUE(journal.ok());
  auto kept = (*journal)->result_rows(std::stoll(value(*selected, Field::seq)));
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ(
      **kept,
      R"({"columns":["id","email"],"rows":[["1","ada@example.com"],["2","bob@example.com"]],"truncated":false})");
  const auto* divided = result_of(records, *divide);
  ASSERT_NE(divided, nullptr);
  EXPECT_EQ(value(*divided, Field::error), "22012: division by zero");

  // One connect and one disconnect per psql run (-c options share one connection).
  const auto session = value(*select, Field::session);
  int connects = 0, disconnects = 0;
  for (const auto& record : records) {
    if (value(record, Field::session) != session) continue;
    if (value(record, Field::event) == "connect") {
      ++connects;
      EXPECT_EQ(value(record, Field::verdict), "allow");
      EXPECT_NE(value(record, Field::client_addr).find("127.0.0.1:"), std::string::npos);
    }
    if (value(record, Field::event) == "disconnect") {
      ++disconnects;
      EXPECT_GT(std::stoll(value(record, Field::bytes_in)), 0);
      EXPECT_GT(std::stoll(value(record, Field::bytes_out)), 0);
    }
  }
  EXPECT_EQ(connects, 1);
  EXPECT_EQ(disconnects, 1);
}

TEST_F(AuditTest, RefusedConnectionsAreRecordedWithTheReason) {
  auto result = gateway_->psql("mallory", "not-a-token", {"-c", "select 1"});
  ASSERT_FALSE(result.ok());
  auto records = wait_for_records(
      *gateway_,
      [](const JournalRecord& r) {
        return value(r, Field::event) == "connect" && value(r, Field::subject) == "mallory";
      },
      1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(value(records[0], Field::verdict), "deny");
  EXPECT_EQ(value(records[0], Field::connection), "app-db");
  EXPECT_EQ(value(records[0], Field::error).rfind("authentication failed: ", 0), 0u)
      << value(records[0], Field::error);
  // The credential itself is never recorded.
  EXPECT_EQ(value(records[0], Field::error).find("not-a-token"), std::string::npos);
}

TEST_F(AuditTest, QueryWithSeveralStatementsGivesOneEventEach) {
  auto result = gateway_->psql("alice", *token_, {"-c", "select 11; select 1/0; select 13"});
  ASSERT_FALSE(result.ok());
  // Results follow their statements within the batch delay.
  std::vector<JournalRecord> records;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    records = journal_records(*gateway_);
    const auto* third = find_record(records, "statement", "select 13");
    if (third != nullptr && result_of(records, *third) != nullptr) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  const auto* first = find_record(records, "statement", "select 11");
  const auto* second = find_record(records, "statement", "select 1/0");
  const auto* third = find_record(records, "statement", "select 13");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_NE(third, nullptr);
  ASSERT_NE(result_of(records, *first), nullptr);
  EXPECT_EQ(value(*result_of(records, *first), Field::rows), "1");
  EXPECT_EQ(value(*result_of(records, *second), Field::error), "22012: division by zero");
  // PostgreSQL stops at the first error: the journal says the third did not run.
  EXPECT_NE(value(*result_of(records, *third), Field::error).find("not run"), std::string::npos);
}

TEST_F(AuditTest, RefusedStatementsAreRecordedAsDenied) {
  auto result = gateway_->psql("alice", *token_, {"-c", "drop table audit_nothing"});
  ASSERT_FALSE(result.ok());
  auto records = wait_for_records(
      *gateway_,
      [](const JournalRecord& r) { return value(r, Field::command) == "drop table audit_nothing"; },
      1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(value(records[0], Field::verdict), "deny");
  EXPECT_EQ(value(records[0], Field::rule), "no-drops");
  EXPECT_EQ(value(records[0], Field::error), "42501: dropping tables is not allowed");
  // Results reach the journal in the order their statements ran: once the result of a later
  // statement is there, a result of the refused one would be too.
  ASSERT_TRUE(gateway_->psql("alice", *token_, {"-c", "select 'after the refusal'"}).ok());
  const auto later = wait_for_records(
      *gateway_,
      [](const JournalRecord& r) {
        return value(r, Field::event) == "statement" &&
               value(r, Field::command) == "select 'after the refusal'";
      },
      1);
  ASSERT_EQ(later.size(), 1u);
  std::vector<JournalRecord> all;
  const JournalRecord* later_result = nullptr;
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  do {
    all = journal_records(*gateway_);
    later_result = result_of(all, later[0]);
    if (later_result == nullptr) std::this_thread::sleep_for(50ms);
  } while (later_result == nullptr && std::chrono::steady_clock::now() < give_up);
  ASSERT_NE(later_result, nullptr) << "the later statement's result never reached the journal";
  EXPECT_EQ(result_of(all, records[0]), nullptr);  // it never ran
}

TEST_F(AuditTest, PasswordsNeverReachTheJournal) {
  // The backend role's own password, set again to what it is: a real secret, and the gateway
  // still logs in afterwards.
  const auto& role = postgres_->scram_role();
  const std::string statement = "alter role " + role.name + " password '" + role.password + "'";
  auto result = gateway_->psql("alice", *token_, {"-c", statement});
  ASSERT_TRUE(result.ok()) << result.describe();
  auto records = wait_for_records(
      *gateway_,
      [](const JournalRecord& r) { return value(r, Field::command).rfind("alter role ", 0) == 0; },
      1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(value(records[0], Field::command), "alter role " + role.name + " password '***'");
  const std::string& secret = role.password;
  gateway_->stop();  // the journal's files are complete once it has closed
  for (const auto& entry : std::filesystem::directory_iterator(gateway_->dir() / "state")) {
    EXPECT_EQ(read_text_file(entry.path()).find(secret), std::string::npos) << entry.path();
  }
  EXPECT_EQ(gateway_->process().stderr_text().find(secret), std::string::npos);
  gateway_->start();
}

TEST_F(AuditTest, ExtendedProtocolRecordsEachExecuteWithItsParameters) {
  const auto script = gateway_->dir() / "params.sql";
  std::ofstream(script) << "\\set n 7\nselect :n::int + 1000;\n";
  auto result = run_pgbench(*gateway_, *token_,
                            {"-n", "-M", "extended", "-t", "3", "-c", "1", "-f", script.string()});
  ASSERT_TRUE(result.ok()) << result.describe();
  auto records = wait_for_records(
      *gateway_,
      [](const JournalRecord& r) {
        return value(r, Field::event) == "statement" &&
               value(r, Field::command) == "select $1::int + 1000";
      },
      6);
  // -M extended parses each time: a `prepared` record for each Parse, then the Execute's.
  ASSERT_EQ(records.size(), 6u);
  std::size_t executed = 0;
  for (const auto& record : records) {
    if (value(record, Field::verdict) == "prepared") continue;
    ++executed;
    EXPECT_EQ(value(record, Field::verdict), "allow");
    EXPECT_EQ(value(record, Field::params), "[\"7\"]");
  }
  EXPECT_EQ(executed, 3u);
}

TEST(AuditCompletenessTest, JournalHoldsEveryStatementTheBackendRan) {
  PostgresServer postgres(logging_postgres());
  GatewayProcess gateway(postgres);
  const auto token = gateway.issue_token("alice");
  auto init = run_pgbench(gateway, token, {"-i", "-s", "1", "-q"});
  ASSERT_TRUE(init.ok()) << init.describe();
  for (const char* mode : {"simple", "extended", "prepared"}) {
    auto bench = run_pgbench(gateway, token, {"-n", "-c", "2", "-t", "25", "-M", mode});
    ASSERT_TRUE(bench.ok()) << mode << ": " << bench.describe();
  }
  auto copied =
      gateway.psql("alice", token,
                   {"-c", "create table audit_copy (id int, note text)", "-c",
                    "\\copy audit_copy from stdin", "-c", "select count(*) from audit_copy"},
                   "app-db", {}, std::string("1\tone\n2\ttwo\n\\.\n"));
  ASSERT_TRUE(copied.ok()) << copied.describe();
  EXPECT_TRUE(copied.stdout_text.ends_with("\n2\n")) << copied.stdout_text;
  gateway.stop();  // everything committed

  const auto ran = backend_statements(postgres, postgres.scram_role().name);
  ASSERT_GT(ran.size(), 400u);  // 3 modes x 2 clients x 25 transactions x 7 statements, and more
  expect_journal_covers(ran, journal_records(gateway));
}

// Starts pgbench through the gateway and kills the gateway with SIGKILL while statements
// flow: after the first hundreds have run, not after a fixed time that a slow (sanitized,
// loaded) run might spend connecting.
void kill9_during_pgbench(const PostgresServer& postgres, GatewayProcess& gateway,
                          const std::string& token) {
  auto init = run_pgbench(gateway, token, {"-i", "-s", "1", "-q"});
  ASSERT_TRUE(init.ok()) << init.describe();
  ChildOptions bench;
  bench.argv = {pg_bin("pgbench").string(),   "-n", "-c", "4", "-T", "60", "-M", "prepared",
                gateway.conninfo("alice", "")};
  bench.env = {{"PGPASSWORD", token}};
  ChildProcess running(std::move(bench));
  const auto role = postgres.scram_role().name;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (backend_statements(postgres, role).size() < 200 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  gateway.process().kill9();
  running.wait(60s);
}

TEST(AuditCrashTest, StrictJournalHoldsEveryStatementAfterKill9) {
  PostgresServer postgres(logging_postgres());
  GatewayProcess gateway(postgres);
  const auto token = gateway.issue_token("alice");
  kill9_during_pgbench(postgres, gateway, token);

  gateway.start();
  auto verify = gateway.cli({"audit", "verify"});
  EXPECT_TRUE(verify.ok()) << verify.describe();
  // The restart pinned the end it found: nothing is left unpinned.
  EXPECT_EQ(verify.stdout_text.find("not yet pinned"), std::string::npos) << verify.stdout_text;
  gateway.stop();

  const auto ran = backend_statements(postgres, postgres.scram_role().name);
  ASSERT_GT(ran.size(), 100u);
  expect_journal_covers(ran, journal_records(gateway));
}

TEST(AuditCrashTest, ATornLastSegmentIsReportedKeptAsideAndRecorded) {
  PostgresServer postgres(logging_postgres());
  GatewayProcess gateway(postgres);
  const auto token = gateway.issue_token("alice");
  kill9_during_pgbench(postgres, gateway, token);
  // A group write cut short by the crash: the last segment ends in the start of a frame
  // (a 500-byte record of which 200 bytes reached the disk).
  const auto dir = gateway.dir() / "state" / "journal";
  auto end = audit::read_segments(dir, 1, {});
  ASSERT_TRUE(end && end->last_segment) << (end ? "no segment" : end.error().message);
  std::string partial("\xf4\x01\x00\x00\x01", 5);
  partial += std::string(200, 'x');
  {
    std::fstream segment(end->last_segment->path, std::ios::in | std::ios::out | std::ios::binary);
    segment.seekp(static_cast<std::streamoff>(end->end_offset));
    segment.write(partial.data(), static_cast<std::streamsize>(partial.size()));
  }
  auto torn = gateway.cli({"audit", "verify"});
  EXPECT_EQ(torn.exit_code, 1) << torn.describe();
  EXPECT_NE(torn.stderr_text.find("205 bytes"), std::string::npos) << torn.stderr_text;

  gateway.start();
  auto verify = gateway.cli({"audit", "verify"});
  EXPECT_TRUE(verify.ok()) << verify.describe();
  EXPECT_NE(verify.stdout_text.find("restarted after a torn tail"), std::string::npos)
      << verify.stdout_text;
  EXPECT_TRUE(std::filesystem::exists(end->last_segment->path.string() +
                                      fmt::format(".torn-{}", end->end_offset)));
  gateway.stop();

  const auto ran = backend_statements(postgres, postgres.scram_role().name);
  ASSERT_GT(ran.size(), 100u);
  expect_journal_covers(ran, journal_records(gateway));
}

TEST(AuditFailClosedTest, NothingRunsWhileTheJournalCannotBeWritten) {
  PostgresServer postgres(logging_postgres());
  GatewayProcess gateway(postgres);
  const auto token = gateway.issue_token("alice");
  ASSERT_TRUE(gateway.psql("alice", token, {"-c", "select 'before the lock'"}).ok());

  // Writes to files fail as on a full disk (the gateway's log file too: its lines about the
  // outage are lost, the client's errors say it).
  testing::FullDisk full(gateway.process().pid());
  auto refused = gateway.psql("alice", token, {"-c", "select 'while locked one'"});
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.stderr_text.find("audit journal cannot be written"), std::string::npos)
      << refused.describe();
  auto refused_again = gateway.psql("alice", token, {"-c", "select 'while locked two'"});
  EXPECT_FALSE(refused_again.ok());
  EXPECT_NE(refused_again.stderr_text.find("audit journal cannot be written"), std::string::npos)
      << refused_again.describe();

  full.release();
  RunResult served;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  do {
    served = gateway.psql("alice", token, {"-c", "select 'after the lock'"});
    if (served.ok()) break;
    std::this_thread::sleep_for(200ms);
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(served.ok()) << served.describe();
  EXPECT_EQ(served.stdout_text, "after the lock\n");
  EXPECT_NE(gateway.process().stderr_text().find("event=audit_available"), std::string::npos);
  // The connections refused meanwhile are recorded now.
  auto refused_connects = wait_for_records(
      gateway,
      [](const JournalRecord& r) {
        return value(r, Field::event) == "connect" && value(r, Field::verdict) == "deny";
      },
      1);
  EXPECT_FALSE(refused_connects.empty());

  const auto log = postgres.log_text();
  EXPECT_EQ(log.find("while locked"), std::string::npos)
      << "a refused statement reached the backend";
  EXPECT_NE(log.find("after the lock"), std::string::npos);
  auto records = wait_for_records(
      gateway,
      [](const JournalRecord& r) { return value(r, Field::command) == "select 'after the lock'"; },
      1);
  EXPECT_EQ(records.size(), 1u);
}

// Strict audit in a read-only backend session: a read goes to the backend while its record is
// being synced, but its answer waits for the record. When the record cannot be written the
// client gets the journal's error and no row, and the session ends.
TEST(AuditFailClosedTest, AReadOnlySessionGetsNoRowOfAReadWhoseRecordFailed) {
  PostgresServer postgres(logging_postgres());
  GatewayProcess gateway(postgres, read_only_grant());
  const auto token = gateway.issue_token("alice");
  PgWireClient client(gateway.port(), "alice", token, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  client.send(PgWireClient::query("select 'before the lock'"));
  EXPECT_EQ(rows_text(client.read_until_ready()), "before the lock|\n");

  FullDisk full(gateway.process().pid());
  client.send(PgWireClient::query("select 'read while locked'"));
  const auto answer = client.read_until_ready();
  EXPECT_FALSE(has_message(answer, 'D')) << rows_text(answer);
  ASSERT_TRUE(has_message(answer, 'E'));
  for (const auto& message : answer) {
    if (message.type != 'E') continue;
    EXPECT_NE(error_message(message.body).find("audit journal cannot be written"),
              std::string::npos)
        << error_message(message.body);
  }
  full.release();

  // The read did reach the backend (it ran while its record was being written), so this is
  // the path that lets answers wait rather than statements.
  bool reached = false;
  for (int i = 0; i < 50 && !reached; ++i) {
    const auto ran = backend_statements(postgres, postgres.scram_role().name);
    reached = std::find(ran.begin(), ran.end(), "select 'read while locked'") != ran.end();
    if (!reached) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(reached);
}

// The same over the extended protocol, as a driver sends it: Parse, Bind, Describe, Execute
// and Sync in one write. The backend answers the whole batch; the client gets none of it.
TEST(AuditFailClosedTest, AReadOnlySessionGetsNoRowOfAnExecuteWhoseRecordFailed) {
  PostgresServer postgres(logging_postgres());
  GatewayProcess gateway(postgres, read_only_grant());
  const auto token = gateway.issue_token("alice");
  PgWireClient client(gateway.port(), "alice", token, "app-db");
  ASSERT_TRUE(client.ok()) << client.login_error();
  const std::string batch = PgWireClient::parse("", "select $1::text") +
                            PgWireClient::bind("", "", {std::string("bound while locked")}) +
                            PgWireClient::describe('P', "") + PgWireClient::execute("") +
                            PgWireClient::sync();
  client.send(PgWireClient::query("select 'before the lock'"));
  ASSERT_EQ(rows_text(client.read_until_ready()), "before the lock|\n");

  FullDisk full(gateway.process().pid());
  client.send(batch);
  const auto answer = client.read_until_ready();
  EXPECT_FALSE(has_message(answer, 'D')) << rows_text(answer);
  EXPECT_FALSE(has_message(answer, 'T'));  // not even the description of the row
  ASSERT_TRUE(has_message(answer, 'E'));
  full.release();

  bool reached = false;
  for (int i = 0; i < 50 && !reached; ++i) {
    reached = postgres.log_text().find("bound while locked") != std::string::npos;
    if (!reached) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(reached);
}

TEST(AuditBatchedTest, BatchedJournalCommitsSoonAndKeepsRowsUpToTheCaps) {
  PostgresServer postgres;
  GatewayOptions options;
  options.audit_section =
      "audit:\n"
      "  durability: batched\n"
      "  record_results: { max_rows: 2, max_bytes: 1MiB }\n"
      "  exporters:\n"
      "    - { kind: jsonl, path: audit.jsonl }\n";
  GatewayProcess gateway(postgres, options);
  const auto token = gateway.issue_token("alice");
  auto result = gateway.psql("alice", token, {"-c", "select g from generate_series(1, 5) g"});
  ASSERT_TRUE(result.ok()) << result.describe();
  auto records = wait_for_records(
      gateway, [](const JournalRecord& r) { return value(r, Field::event) == "result"; }, 1, 3s);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(value(records[0], Field::rows), "5");
  auto journal = store::open_journal_store(gateway.state_url(), {});
  ASSERT_TRUE(journal.ok());
  auto kept = (*journal)->result_rows(std::stoll(value(records[0], Field::seq)));
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ(**kept, R"({"columns":["g"],"rows":[["1"],["2"]],"truncated":true})");

  // The exporter has every record, and the checkpoint signed at shutdown after the last.
  gateway.stop();
  const auto exported = read_text_file(gateway.dir() / "audit.jsonl");
  EXPECT_NE(exported.find(R"("command":"select g from generate_series(1, 5) g")"),
            std::string::npos)
      << exported;
  EXPECT_NE(exported.find(R"({"checkpoint":{"seq":)"), std::string::npos) << exported;
  EXPECT_TRUE(exported.ends_with("}\n"));
}

}  // namespace
}  // namespace portcullis::testing
