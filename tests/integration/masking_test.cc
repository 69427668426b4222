// Result masking end to end: psql and libpq read a customers table through the gateway with
// a masking profile; values leave the gateway masked, in text and binary formats, in error
// details too; COPY out is refused under masking rather than sent unmasked.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <thread>

#include "gateway_fixture.h"
#include "store/journal_store.h"
#include "support/postgres_server.h"

namespace portcullis::testing {
namespace {

constexpr const char* kAccess =
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
    options.access_section = kAccess;
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
  auto result = gateway_->psql(
      "sam", *support_,
      {"-c", "select email, card, note from customers where id = 1", "-c",
       "insert into customers (id, email) values (4, 'ada@example.com')"});
  EXPECT_FALSE(result.ok());  // the insert collides with a unique email
  auto journal = store::open_journal_store(gateway_->state_url(), {});
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  std::vector<store::JournalRecord> results;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    store::JournalFilter filter;
    filter.subject = "sam";
    filter.event = "result";
    auto found = (*journal)->search(filter);
    ASSERT_TRUE(found.ok());
    results = std::move(*found);
    if (results.size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_GE(results.size(), 2u);
  const auto& selected = results[results.size() - 2];
  const auto& failed = results.back();
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

TEST_F(MaskingTest, CopyOutIsRefusedRatherThanSentUnmasked) {
  auto result = gateway_->psql("sam", *support_, {"-c", "copy customers to stdout"});
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.stderr_text.find("result withheld by masking profile \"default\""),
            std::string::npos)
      << result.stderr_text;
  EXPECT_EQ(result.stdout_text.find("ada@example.com"), std::string::npos);
  // The session goes on.
  auto after = gateway_->psql("sam", *support_,
                              {"-v", "ON_ERROR_STOP=0", "-c", "copy customers to stdout", "-c",
                               "select name from customers where id = 1"});
  EXPECT_NE(after.stdout_text.find("Ada Lovelace"), std::string::npos) << after.describe();
}

TEST_F(MaskingTest, AGrantWithoutMaskingSeesOriginals) {
  auto result = gateway_->psql("dan", *dba_, {"-c", "select email from customers where id = 1"});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "ada@example.com\n");
}

}  // namespace
}  // namespace portcullis::testing
