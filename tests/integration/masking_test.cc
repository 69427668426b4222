// Result masking end to end: psql and libpq read a customers table through the gateway with
// a masking profile; values leave the gateway masked, in text and binary formats, in error
// details too; COPY out is refused under masking rather than sent unmasked.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "gateway_fixture.h"
#include "store/journal_store.h"
#include "support/postgres_server.h"

namespace portcullis::testing {
namespace {

constexpr const char* kMaskingAccess =
    "access:\n"
    "  - name: support\n"
    "    who: { groups: [support] }\n"
    "    connections: [app-db]\n"
    "    credentials: default\n"
    "    allow: [read, write]\n"
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
    "        - { match: \"*.password*\", action: redact }\n";

class MaskingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    postgres_ = new PostgresServer();
    auto setup = postgres_->psql_superuser(
        "create table customers (id int primary key, name text, email text unique, card text, "
        "ssn text, note text, password_hash text, order_no text);"
        "insert into customers values "
        "(1, 'Ada Lovelace', 'ada@example.com', '4111 1111 1111 1111', '123-45-6789', "
        "'call +1 415 555 0100 — über ada@example.com', 'x9$secret', '4111111111111112'),"
        "(2, 'Zoë Ångström', 'zoe@example.org', '5500-0000-0000-0004', '234-56-7890', "
        "'no pii here', 'hunter2', 'ORD-2024-0001');"
        "alter table customers owner to " +
        postgres_->scram_role().name + ";");
    ASSERT_TRUE(setup.ok()) << setup.describe();
    GatewayOptions options;
    options.access_section = kMaskingAccess;
    gateway_ = new GatewayProcess(*postgres_, options);
    support_ = new std::string(gateway_->token_for("sam", "support"));
    dba_ = new std::string(gateway_->token_for("dan", "dba"));
  }
  static void TearDownTestSuite() {
    delete dba_;
    delete support_;
    delete gateway_;
    delete postgres_;
  }

  static PostgresServer* postgres_;
  static GatewayProcess* gateway_;
  static std::string* support_;
  static std::string* dba_;
};

PostgresServer* MaskingTest::postgres_ = nullptr;
GatewayProcess* MaskingTest::gateway_ = nullptr;
std::string* MaskingTest::support_ = nullptr;
std::string* MaskingTest::dba_ = nullptr;

TEST_F(MaskingTest, PiiLeavesTheGatewayMaskedAndTheRestUnchanged) {
  auto result = gateway_->psql("sam", *support_, {"-c", "select * from customers order by id"});
  ASSERT_TRUE(result.ok()) << result.describe();
  const auto& out = result.stdout_text;
  for (const char* original :
       {"ada@example.com", "4111 1111 1111 1111", "123-45-6789", "zoe@example.org",
        "5500-0000-0000-0004", "x9$secret", "hunter2", "+1 415 555 0100"})
    EXPECT_EQ(out.find(original), std::string::npos) << original << " leaked: " << out;
  // What is not PII stays: names with multi-byte characters, a number failing Luhn, text.
  for (const char* kept :
       {"Ada Lovelace", "Zoë Ångström", "4111111111111112", "ORD-2024-0001", "no pii here", "über"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " missing: " << out;
}

TEST_F(MaskingTest, BinaryResultsAreMaskedToo) {
  PGconn* conn = PQconnectdb(gateway_->conninfo("sam", *support_).c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* result = PQexecParams(conn, "select email, id from customers where id = 1", 0, nullptr,
                                  nullptr, nullptr, nullptr, /*resultFormat=*/1);
  ASSERT_EQ(PQresultStatus(result), PGRES_TUPLES_OK) << PQresultErrorMessage(result);
  const std::string email(PQgetvalue(result, 0, 0), PQgetlength(result, 0, 0));
  EXPECT_EQ(email.find("ada@example.com"), std::string::npos) << email;
  EXPECT_EQ(PQgetlength(result, 0, 1), 4);  // the int4 is forwarded as it came
  PQclear(result);
  PQfinish(conn);
}

TEST_F(MaskingTest, ErrorDetailsAreMasked) {
  auto result = gateway_->psql(
      "sam", *support_, {"-c", "insert into customers (id, email) values (3, 'ada@example.com')"});
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.stderr_text.find("duplicate key"), std::string::npos) << result.stderr_text;
  EXPECT_EQ(result.stderr_text.find("ada@example.com"), std::string::npos) << result.stderr_text;
}

TEST_F(MaskingTest, TheJournalKeepsOnlyMaskedValuesAndCountsThem) {
  auto before = store::open_journal_store(gateway_->state_url(), {});
  ASSERT_TRUE(before.ok()) << before.error().message;
  const auto tail = (*before)->tail();
  ASSERT_TRUE(tail.ok());
  auto result = gateway_->psql("sam", *support_,
                               {"-c", "select email, card, note from customers where id = 1", "-c",
                                "insert into customers (id, email) values (4, 'ada@example.com')"});
  EXPECT_FALSE(result.ok());  // the insert collides with a unique email
  auto journal = store::open_journal_store(gateway_->state_url(), {});
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  // Earlier tests' events may still be arriving: follow this psql's session only.
  std::string session;
  std::vector<store::JournalRecord> results;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    store::JournalFilter filter;
    filter.subject = "sam";
    filter.after_seq = tail->seq;
    auto found = (*journal)->search(filter);
    ASSERT_TRUE(found.ok());
    results.clear();
    for (auto& record : *found) {
      if (record[store::Field::command].value_or("") ==
          "select email, card, note from customers where id = 1")
        session = record[store::Field::session].value_or("");
      if (!session.empty() && record[store::Field::session] == session &&
          record[store::Field::event] == "result")
        results.push_back(std::move(record));
    }
    if (results.size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(results.size(), 2u);
  const auto& selected = results[0];
  const auto& failed = results[1];
  EXPECT_EQ(selected[store::Field::masked].value_or(""),
            R"({"credit_card":1,"email":2,"phone":1})");
  auto kept = (*journal)->result_rows(std::stoll(selected[store::Field::seq].value_or("0")));
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->find("ada@example.com"), std::string::npos) << **kept;
  EXPECT_EQ((*kept)->find("4111 1111 1111 1111"), std::string::npos) << **kept;
  EXPECT_NE((*kept)->find("über"), std::string::npos) << **kept;
  // The error's text is recorded as the client saw it: masked.
  const auto error = failed[store::Field::error].value_or("");
  EXPECT_EQ(error.rfind("23505: ", 0), 0u) << error;
  EXPECT_EQ(error.find("ada@example.com"), std::string::npos) << error;
}

// What must never leave the gateway from the customers table, whatever the route.
void expect_no_pii(const std::string& out) {
  for (const char* original :
       {"ada@example.com", "4111 1111 1111 1111", "123-45-6789", "zoe@example.org",
        "5500-0000-0000-0004", "x9$secret", "hunter2", "+1 415 555 0100"})
    EXPECT_EQ(out.find(original), std::string::npos) << original << " leaked: " << out;
}

TEST_F(MaskingTest, CopyToStdoutInTextFormatIsMasked) {
  auto result = gateway_->psql(
      "sam", *support_,
      {"-c", "copy customers (id, name, email, card, note, password_hash) to stdout"});
  ASSERT_TRUE(result.ok()) << result.describe();
  expect_no_pii(result.stdout_text);
  // One line per row, tab-separated, the rest as it was (multi-byte text included).
  EXPECT_NE(result.stdout_text.find("1\tAda Lovelace\t"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("Zoë Ångström"), std::string::npos);
  EXPECT_NE(result.stdout_text.find("über"), std::string::npos);
  EXPECT_EQ(std::count(result.stdout_text.begin(), result.stdout_text.end(), '\n'), 2);
}

TEST_F(MaskingTest, CopyCsvWithHeaderTakesTheColumnNamesFromTheHeader) {
  auto result = gateway_->psql("sam", *support_,
                               {"-c", "copy customers to stdout with (format csv, header)"});
  ASSERT_TRUE(result.ok()) << result.describe();
  expect_no_pii(result.stdout_text);
  EXPECT_EQ(result.stdout_text.rfind("id,name,email,card,ssn,note,password_hash,order_no\n", 0), 0u)
      << result.stdout_text;
  // Column rule *.password* masks the whole value, wherever the column is.
  EXPECT_EQ(result.stdout_text.find("x9$secret"), std::string::npos);
  EXPECT_NE(result.stdout_text.find("ORD-2024-0001"), std::string::npos);
  // \copy (COPY ... TO STDOUT underneath) of a query, named by a header, works too.
  auto query = gateway_->psql(
      "sam", *support_,
      {"-c", "\\copy (select email, note from customers order by id) to stdout with csv header"});
  ASSERT_TRUE(query.ok()) << query.describe();
  expect_no_pii(query.stdout_text);
  EXPECT_NE(query.stdout_text.find("no pii here"), std::string::npos) << query.stdout_text;
}

TEST_F(MaskingTest, CopyThatCannotBeMaskedIsRefusedRatherThanSentUnmasked) {
  // No column names (the profile masks password columns by name), binary format.
  for (const char* copy :
       {"copy customers to stdout", "copy customers (id, email) to stdout with (format binary)"}) {
    auto result = gateway_->psql("sam", *support_, {"-c", copy});
    EXPECT_FALSE(result.ok()) << copy;
    EXPECT_NE(result.stderr_text.find("result withheld by masking profile \"default\""),
              std::string::npos)
        << copy << ": " << result.stderr_text;
    expect_no_pii(result.stdout_text);
  }
  // The session goes on.
  auto after = gateway_->psql("sam", *support_,
                              {"-v", "ON_ERROR_STOP=0", "-c", "copy customers to stdout", "-c",
                               "select name from customers where id = 1"});
  EXPECT_NE(after.stdout_text.find("Ada Lovelace"), std::string::npos) << after.describe();
}

TEST_F(MaskingTest, AOneMegabyteValueIsMaskedWhole) {
  // 1 MiB of text with PII at the start, in the middle and at the very end.
  auto result = gateway_->psql(
      "sam", *support_,
      {"-c",
       "select 'ada@example.com ' || repeat('lorem ipsum ', 43690) || ' 123-45-6789 ' || "
       "repeat('x', 1000) || ' zoe@example.org' as big"});
  ASSERT_TRUE(result.ok()) << result.describe();
  const auto& out = result.stdout_text;
  expect_no_pii(out);
  EXPECT_GT(out.size(), 1u << 19);
  EXPECT_NE(out.find("lorem ipsum lorem ipsum"), std::string::npos);
  EXPECT_TRUE(out.ends_with("[email]\n")) << out.substr(out.size() - 40);
}

TEST_F(MaskingTest, AGrantWithoutMaskingSeesOriginals) {
  auto result = gateway_->psql("dan", *dba_, {"-c", "select email from customers where id = 1"});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "ada@example.com\n");
}

TEST(MaskingTableRulesTest, ARuleNamingATableMasksThatTablesColumnOnly) {
  PostgresServer postgres;
  auto setup = postgres.psql_superuser(
      "create table staff (id int, ssn text);"
      "create table parts (id int, ssn text);"
      "insert into staff values (1, 'staff-secret-1');"
      "insert into parts values (1, 'part-number-1');"
      "alter table staff owner to " +
      postgres.scram_role().name +
      ";"
      "alter table parts owner to " +
      postgres.scram_role().name + ";");
  ASSERT_TRUE(setup.ok()) << setup.describe();
  GatewayOptions options;
  options.access_section =
      "access:\n"
      "  - name: support\n"
      "    who: { groups: [support] }\n"
      "    connections: [app-db]\n"
      "    credentials: default\n"
      "    allow: [read]\n"
      "    masking: strict\n"
      "masking:\n"
      "  profiles:\n"
      "    strict:\n"
      "      detectors: [email]\n"
      "      columns:\n"
      "        - { match: \"staff.ssn\", action: redact }\n";
  GatewayProcess gateway(postgres, options);
  const auto token = gateway.token_for("sam", "support");
  auto result = gateway.psql("sam", token, {"-c", "select s.ssn, p.ssn from staff s, parts p"});
  ASSERT_TRUE(result.ok()) << result.describe();
  // The staff column is masked, the parts column of the same name is not.
  EXPECT_EQ(result.stdout_text, "[redacted]|part-number-1\n");
  auto by_name = gateway.psql("sam", token, {"-c", "select ssn || '' as ssn from parts"});
  ASSERT_TRUE(by_name.ok()) << by_name.describe();
  EXPECT_EQ(by_name.stdout_text.find("part-number-1"), std::string::npos)
      << "a column of no table matches a table rule by its name (masks more, never less)";
}

}  // namespace
}  // namespace portcullis::testing
