// Guardrail matching and the order of a decision, on statements built by hand (the
// classifier has its own tests; the corpus test runs both together).
#include "policy/guardrails.h"

#include <gtest/gtest.h>

#include "config/loader.h"
#include "policy/decide.h"

namespace portcullis::policy {
namespace {

using sql::StatementClass;

sql::Statement statement(std::string kind, sql::ClassSet classes) {
  sql::Statement s;
  s.kind = std::move(kind);
  s.classes = classes;
  return s;
}

identity::Identity someone(std::vector<std::string> groups) {
  identity::Identity id;
  id.subject = "someone";
  id.groups = std::move(groups);
  return id;
}

constexpr std::string_view kPolicy = R"(
connections:
  - name: app
    kind: postgres
    address: 127.0.0.1:5432
    database: app
    credentials:
      default: { user: app_rw }
      readonly: { user: app_ro }
access:
  - name: readers
    who: { groups: [engineering] }
    connections: [app]
    credentials: readonly
    allow: [read]
  - name: dba
    who: { groups: [dba] }
    connections: [app]
    allow: [read, write, ddl, dcl, admin]
guardrails:
  - name: no-rm-anywhere
    when: { programs: [rm], paths: ["/*"], options: [{ program: find, options: [-delete] }] }
    action: deny
  - name: dba-may-vacuum
    when: { statements: [vacuum], who: { groups: [dba] } }
    action: allow
  - name: no-drops
    when: { statements: [drop_table, truncate] }
    action: deny
    message: dropping is not allowed here
  - name: unbounded-writes
    when: { statements: [delete, update], where: absent }
    action: review
    reviewers: { groups: [dba] }
    wait: 30s
  - name: no-server-files
    when: { functions: [pg_read_file], statements: [copy_program] }
    action: deny
  - name: no-secrets-table
    when: { tables: ["secret*", "*.vault"] }
    action: deny
)";

class DecideTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = config::parse_config(kPolicy, "/tmp/guardrails-test/portcullis.yaml");
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    config_ = *loaded;
  }

  Decision run(const identity::Identity& who, std::vector<sql::Statement> statements) {
    auto grant = select_grant(*config_, who, "app");
    EXPECT_TRUE(grant.ok());
    auto classification = std::make_shared<sql::Classification>();
    classification->statements = std::move(statements);
    Command command;
    command.sql()->classification = classification;
    return decide(*config_, who, *grant, command);
  }

  config::ConfigPtr config_;
};

TEST_F(DecideTest, GuardrailsOnShellCommandsNeverMatchAStatement) {
  // The first guardrail names only ssh conditions: with nothing of SQL to match, it would
  // match every statement if read as a statement guardrail.
  ASSERT_TRUE(config_->guardrails.front().when.names_ssh_conditions());
  const auto d =
      run(someone({"engineering"}), {statement("select", sql::ClassSet(StatementClass::read))});
  EXPECT_EQ(d.verdict, Verdict::allow) << d.rule << ": " << d.message;
}

TEST(FunctionNameMatches, IgnoresCaseAndSchema) {
  EXPECT_TRUE(function_name_matches("pg_read_file", "pg_catalog.pg_read_file"));
  EXPECT_TRUE(function_name_matches("PG_READ_FILE", "pg_read_file"));
  EXPECT_TRUE(function_name_matches("pg_catalog.pg_read_file", "pg_read_file"));
  EXPECT_FALSE(function_name_matches("pg_read_file", "pg_read_binary_file"));
}

TEST(TableMatches, GlobsOverQualifiedAndBareNames) {
  EXPECT_TRUE(table_matches("secret*", "secrets"));
  EXPECT_TRUE(table_matches("secret*", "public.secrets"));
  EXPECT_TRUE(table_matches("*.vault", "ops.vault"));
  EXPECT_FALSE(table_matches("*.vault", "vault_history"));
  EXPECT_FALSE(table_matches("orders", "public.orders_archive"));
}

TEST_F(DecideTest, FirstMatchingGuardrailDecidesWithItsMessage) {
  auto decision = run(someone({"dba"}),
                      {statement("drop_table", static_cast<sql::ClassSet>(StatementClass::ddl))});
  EXPECT_EQ(decision.verdict, Verdict::deny);
  EXPECT_EQ(decision.rule, "no-drops");
  EXPECT_EQ(decision.message, "dropping is not allowed here");
}

TEST_F(DecideTest, UnboundedWritesGoToReviewWithReviewersAndWait) {
  auto unbounded = statement("delete", static_cast<sql::ClassSet>(StatementClass::write));
  unbounded.where_absent = true;
  auto decision = run(someone({"dba"}), {unbounded});
  EXPECT_EQ(decision.verdict, Verdict::review);
  EXPECT_EQ(decision.rule, "unbounded-writes");
  EXPECT_EQ(decision.reviewer_groups, (std::vector<std::string>{"dba"}));
  EXPECT_EQ(decision.wait, std::chrono::seconds(30));
  auto bounded = unbounded;
  bounded.where_absent = false;
  EXPECT_EQ(run(someone({"dba"}), {bounded}).verdict, Verdict::allow);
}

TEST_F(DecideTest, FunctionsOrStatementsEitherTriggerAGuardrail) {
  auto reading = statement("select", static_cast<sql::ClassSet>(StatementClass::read));
  reading.functions = {"pg_catalog.PG_READ_FILE"};
  EXPECT_EQ(run(someone({"dba"}), {reading}).rule, "no-server-files");
  auto copy = statement("copy_program", StatementClass::write | StatementClass::admin);
  EXPECT_EQ(run(someone({"dba"}), {copy}).rule, "no-server-files");
}

TEST_F(DecideTest, TableGlobsMatchReadAndWrittenTables) {
  auto read = statement("select", static_cast<sql::ClassSet>(StatementClass::read));
  read.tables_read = {"public.secrets"};
  EXPECT_EQ(run(someone({"engineering"}), {read}).rule, "no-secrets-table");
  auto written = statement("insert", static_cast<sql::ClassSet>(StatementClass::write));
  written.tables_written = {"ops.vault"};
  EXPECT_EQ(run(someone({"dba"}), {written}).rule, "no-secrets-table");
}

TEST_F(DecideTest, AllowGuardrailEndsTheCheckButNeverWidensTheGrant) {
  auto vacuum = statement("vacuum", static_cast<sql::ClassSet>(StatementClass::admin));
  EXPECT_EQ(run(someone({"dba"}), {vacuum}).verdict, Verdict::allow);
  // The allow guardrail names dba only; a reader is still refused by its grant.
  auto refused = run(someone({"engineering"}), {vacuum});
  EXPECT_EQ(refused.verdict, Verdict::deny);
  EXPECT_EQ(refused.rule, "readers");
}

TEST_F(DecideTest, GrantClassesDecideLastAndNameTheAccessRule) {
  auto decision = run(someone({"engineering"}),
                      {statement("insert", static_cast<sql::ClassSet>(StatementClass::write))});
  EXPECT_EQ(decision.verdict, Verdict::deny);
  EXPECT_EQ(decision.rule, "readers");
  EXPECT_NE(decision.message.find("write"), std::string::npos) << decision.message;
}

TEST_F(DecideTest, TransactionAndSessionStatementsAlwaysPass) {
  EXPECT_EQ(run(someone({"engineering"}),
                {statement("begin", static_cast<sql::ClassSet>(StatementClass::transaction)),
                 statement("set", static_cast<sql::ClassSet>(StatementClass::session)),
                 statement("select", static_cast<sql::ClassSet>(StatementClass::read))})
                .verdict,
            Verdict::allow);
}

TEST_F(DecideTest, UnknownIsAllowedToNobodyUnlessNamed) {
  auto unknown = statement("unknown", static_cast<sql::ClassSet>(StatementClass::unknown));
  EXPECT_EQ(run(someone({"dba"}), {unknown}).verdict, Verdict::deny);
}

TEST_F(DecideTest, ReadOnlyGrantRefusesWhatWouldLiftIt) {
  auto lift = statement("begin", static_cast<sql::ClassSet>(StatementClass::transaction));
  lift.lifts_read_only = true;
  auto decision = run(someone({"engineering"}), {lift});
  EXPECT_EQ(decision.verdict, Verdict::deny);
  EXPECT_EQ(decision.rule, "readers");
  EXPECT_EQ(run(someone({"dba"}), {lift}).verdict, Verdict::allow);
}

TEST_F(DecideTest, OneRefusedStatementRefusesTheWholeCommand) {
  auto decision = run(someone({"engineering"}),
                      {statement("select", static_cast<sql::ClassSet>(StatementClass::read)),
                       statement("delete", static_cast<sql::ClassSet>(StatementClass::write))});
  EXPECT_EQ(decision.verdict, Verdict::deny);
}

TEST_F(DecideTest, ChangingHowTextIsReadIsRefused) {
  auto encoding = statement("set", static_cast<sql::ClassSet>(StatementClass::session));
  encoding.setting = "client_encoding";
  encoding.changes_text_reading = true;
  EXPECT_EQ(run(someone({"dba"}), {encoding}).verdict, Verdict::deny);
}

TEST_F(DecideTest, CommandWithoutClassificationIsRefused) {
  auto grant = select_grant(*config_, someone({"dba"}), "app");
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(decide(*config_, someone({"dba"}), *grant, Command{}).verdict, Verdict::deny);
}

}  // namespace
}  // namespace portcullis::policy

namespace portcullis::policy {
namespace {

TEST(LockdownTest, OnlyAdministratorsRunCommandsOnALockedDownConnection) {
  auto loaded = config::parse_config(R"(
api:
  admin_groups: [responders]
connections:
  - name: app
    kind: postgres
    address: 127.0.0.1:5432
    database: app
    lockdown: true
    credentials:
      default: { user: app_rw }
access:
  - name: everyone
    who: { groups: [engineering, responders] }
    connections: [app]
    allow: [read, write]
)",
                                     "/tmp/lockdown-test/portcullis.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto run = [&](std::vector<std::string> groups, std::string kind, sql::ClassSet classes) {
    const auto who = someone(std::move(groups));
    auto grant = select_grant(**loaded, who, "app");
    EXPECT_TRUE(grant.ok());
    auto classification = std::make_shared<sql::Classification>();
    classification->statements = {statement(std::move(kind), classes)};
    Command command;
    command.sql()->classification = classification;
    return decide(**loaded, who, *grant, command);
  };
  const auto read = static_cast<sql::ClassSet>(StatementClass::read);
  const auto transaction = static_cast<sql::ClassSet>(StatementClass::transaction);
  auto refused = run({"engineering"}, "select", read);
  EXPECT_EQ(refused.verdict, Verdict::deny);
  EXPECT_EQ(refused.rule, "lockdown");
  EXPECT_EQ(refused.message,
            "connection \"app\" is locked down: only administrators may run commands");
  EXPECT_EQ(run({"engineering"}, "commit", transaction).verdict, Verdict::deny);
  EXPECT_EQ(run({"engineering"}, "rollback", transaction).verdict, Verdict::allow);
  EXPECT_EQ(run({"responders"}, "select", read).verdict, Verdict::allow);
}

}  // namespace
}  // namespace portcullis::policy

namespace portcullis::policy {
namespace {

constexpr std::string_view kRowsPolicy = R"(
connections:
  - name: app
    kind: postgres
    address: 127.0.0.1:5432
    database: app
    credentials:
      default: { user: app_rw }
access:
  - name: readers
    who: { groups: [engineering] }
    connections: [app]
    allow: [read]
  - name: writers
    who: { groups: [support] }
    connections: [app]
    allow: [read, write]
guardrails:
  - name: no-drops
    when: { statements: [drop_table] }
    action: deny
  - name: big-writes
    when: { statements: [delete, update], rows_over: 100 }
    action: review
    reviewers: { groups: [dba] }
)";

class RowsOverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = config::parse_config(kRowsPolicy, "/tmp/guardrails-test/portcullis.yaml");
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    config_ = *loaded;
  }
  Command command(std::vector<sql::Statement> statements,
                  std::vector<std::optional<uint64_t>> estimates = {}) {
    auto classification = std::make_shared<sql::Classification>();
    classification->statements = std::move(statements);
    Command c;
    c.sql()->classification = classification;
    c.sql()->estimated_rows = std::move(estimates);
    return c;
  }
  Decision run(const identity::Identity& who, const Command& c) {
    auto grant = select_grant(*config_, who, "app");
    EXPECT_TRUE(grant.ok());
    return decide(*config_, who, *grant, c);
  }
  config::ConfigPtr config_;
};

sql::Statement write(std::string kind) {
  sql::Statement s;
  s.kind = std::move(kind);
  s.classes = static_cast<sql::ClassSet>(sql::StatementClass::write);
  return s;
}

TEST_F(RowsOverTest, HoldsWritesEstimatedAboveTheBound) {
  const auto sam = someone({"support"});
  EXPECT_EQ(run(sam, command({write("delete")}, {101})).verdict, Verdict::review);
  EXPECT_EQ(run(sam, command({write("delete")}, {101})).rule, "big-writes");
  EXPECT_EQ(run(sam, command({write("delete")}, {100})).verdict, Verdict::allow);
  EXPECT_EQ(run(sam, command({write("update")}, {0})).verdict, Verdict::allow);
}

TEST_F(RowsOverTest, AWriteWithoutAnEstimateIsHeld) {
  const auto sam = someone({"support"});
  EXPECT_EQ(run(sam, command({write("delete")})).verdict, Verdict::review);
  EXPECT_EQ(run(sam, command({write("delete")}, {std::nullopt})).verdict, Verdict::review);
}

TEST_F(RowsOverTest, AWriteNestedInAReadCounts) {
  auto cte = statement("select", StatementClass::read | StatementClass::write);
  cte.nested_kinds = {"delete"};
  EXPECT_EQ(run(someone({"support"}), command({cte}, {5000})).verdict, Verdict::review);
  EXPECT_EQ(run(someone({"support"}), command({cte}, {5})).verdict, Verdict::allow);
}

TEST_F(RowsOverTest, ReadsAreNeverEstimated) {
  auto read = statement("select", static_cast<sql::ClassSet>(StatementClass::read));
  const auto sam = someone({"support"});
  EXPECT_EQ(run(sam, command({read})).verdict, Verdict::allow);
  auto grant = select_grant(*config_, sam, "app");
  ASSERT_TRUE(grant.ok());
  EXPECT_TRUE(statements_to_estimate(*config_, sam, *grant, command({read})).empty());
  EXPECT_EQ(statements_to_estimate(*config_, sam, *grant, command({read, write("delete")})),
            (std::vector<bool>{false, true}));
}

// A reviewer is never asked to approve what the grant refuses anyway.
TEST_F(RowsOverTest, AReviewIsOnlyGivenToWhatTheGrantAllows) {
  auto decision = run(someone({"engineering"}), command({write("delete")}, {5000}));
  EXPECT_EQ(decision.verdict, Verdict::deny);
  EXPECT_EQ(decision.rule, "readers");
}

TEST_F(RowsOverTest, ARefusalAnywhereWinsOverAReview) {
  auto drop = statement("drop_table", static_cast<sql::ClassSet>(StatementClass::ddl));
  auto decision = run(someone({"support"}), command({write("delete"), drop}, {5000, {}}));
  EXPECT_EQ(decision.verdict, Verdict::deny);
  EXPECT_EQ(decision.rule, "no-drops");
}

}  // namespace
}  // namespace portcullis::policy
