// End to end: review holds and incident response on the MySQL front end — a statement held
// for review keeps the mariadb client waiting until a reviewer approves it (then it runs once)
// or rejects it (the client gets the ERR naming the review); revoking a subject ends its live
// MySQL sessions.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "mysql_gateway.h"
#include "support/mariadb_server.h"
#include "support/mysql_wire_client.h"

namespace portcullis::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kMysqlReviewAccess =
    "access:\n"
    "  - name: dba\n"
    "    who: { groups: [dba] }\n"
    "    connections: [shop]\n"
    "    credentials: default\n"
    "    allow: [read, write, ddl]\n";

constexpr const char* kMysqlReviewGuardrails =
    "guardrails:\n"
    "  - name: unbounded-writes-need-approval\n"
    "    when: { statements: [delete, update], where: absent }\n"
    "    action: review\n"
    "    reviewers: { groups: [leads] }\n"
    "    wait: 60s\n";

class MysqlReviewTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mariadb_ = new MariadbServer();
    MysqlGatewayOptions options;
    options.http_listener = true;
    options.access_section = kMysqlReviewAccess;
    options.guardrails_section = kMysqlReviewGuardrails;
    options.extra_sections = "api:\n  admin_groups: [platform-admins]\n";
    gateway_ = new MysqlGateway(*mariadb_, options);
    dan_ = new std::string(gateway_->token_for("dan", "dba"));
    lee_ = new std::string(gateway_->token_for("lee", "leads"));
    admin_ = new std::string(gateway_->token_for("ada", "platform-admins"));
  }
  static void TearDownTestSuite() {
    delete admin_;
    delete lee_;
    delete dan_;
    delete gateway_;
    delete mariadb_;
  }

  void SetUp() override {
    auto setup = mariadb_->mariadb_root(
        "DROP TABLE IF EXISTS items; CREATE TABLE items (id INT PRIMARY KEY, name TEXT);"
        "INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');");
    ASSERT_TRUE(setup.ok()) << setup.describe();
  }

  static std::string api_url() { return fmt::format("http://127.0.0.1:{}", gateway_->http_port()); }

  // The mariadb client through the gateway, in the background.
  static ChildProcess start_mariadb(const std::string& user, const std::string& token,
                                    const std::string& sql) {
    ChildOptions child;
    child.argv = {mariadb_bin("mariadb").string(),
                  "--no-defaults",
                  "--batch",
                  "--skip-column-names",
                  "--protocol=TCP",
                  "--host=127.0.0.1",
                  "--port=" + std::to_string(gateway_->port()),
                  "--user=" + user,
                  "shop"};
    child.env = {{"MYSQL_PWD", token}};
    child.stdin_data = sql;
    return ChildProcess(std::move(child));
  }

  static std::string wait_for_pending(const std::string& requester, const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto listed = gateway_->cli({"review", "list", "--status", "pending", "--json", "--api",
                                   api_url(), "--token", *lee_});
      if (listed.ok()) {
        const auto reviews = json::parse(listed.stdout_text).at("reviews").as_array();
        for (const auto& review : reviews) {
          const auto& r = review.as_object();
          if (r.at("requester").as_string() == requester &&
              std::string(r.at("command").as_string()).find(text) != std::string::npos)
            return std::string(r.at("id").as_string());
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    return {};
  }

  static RunResult review(const std::string& verb, const std::string& id) {
    return gateway_->cli(
        {"review", verb, id, "--comment", "checked", "--api", api_url(), "--token", *lee_});
  }

  static std::string count_items() {
    return mariadb_->mariadb_root("SELECT COUNT(*) FROM items").stdout_text;
  }

  static MariadbServer* mariadb_;
  static MysqlGateway* gateway_;
  static std::string* dan_;
  static std::string* lee_;
  static std::string* admin_;
};

MariadbServer* MysqlReviewTest::mariadb_ = nullptr;
MysqlGateway* MysqlReviewTest::gateway_ = nullptr;
std::string* MysqlReviewTest::dan_ = nullptr;
std::string* MysqlReviewTest::lee_ = nullptr;
std::string* MysqlReviewTest::admin_ = nullptr;

TEST_F(MysqlReviewTest, HeldStatementRunsOnceApproved) {
  auto client = start_mariadb("dan", *dan_, "DELETE FROM items;\nSELECT COUNT(*) FROM items;\n");
  const auto id = wait_for_pending("dan", "DELETE FROM items");
  ASSERT_FALSE(id.empty()) << client.stderr_text();
  // Held: nothing ran yet, and the client is still waiting.
  EXPECT_EQ(count_items(), "3\n");
  EXPECT_TRUE(client.running());
  auto approved = review("approve", id);
  ASSERT_TRUE(approved.ok()) << approved.describe();
  const auto status = client.wait(30s);
  EXPECT_TRUE(status.success()) << status.describe() << client.stderr_text();
  EXPECT_EQ(client.stdout_text(), "0\n");
  EXPECT_EQ(count_items(), "0\n");
}

TEST_F(MysqlReviewTest, AnApprovedPrepareDoesNotApproveWhatItsExecutesRun) {
  // The approval covers the PREPARE once; every EXECUTE of it is the DELETE again.
  auto client = start_mariadb(
      "dan", *dan_,
      "PREPARE s FROM 'DELETE FROM items';\nEXECUTE s;\nSELECT COUNT(*) FROM items;\n");
  const auto prepare = wait_for_pending("dan", "PREPARE s FROM");
  ASSERT_FALSE(prepare.empty()) << client.stderr_text();
  ASSERT_TRUE(review("approve", prepare).ok());
  const auto execute = wait_for_pending("dan", "EXECUTE s");
  ASSERT_FALSE(execute.empty()) << client.stderr_text();
  EXPECT_EQ(count_items(), "3\n");
  ASSERT_TRUE(review("reject", execute).ok());
  const auto status = client.wait(30s);
  EXPECT_FALSE(status.success());
  EXPECT_NE(client.stderr_text().find(execute), std::string::npos) << client.stderr_text();
  EXPECT_EQ(count_items(), "3\n");
}

TEST_F(MysqlReviewTest, RejectedStatementNeverRunsAndTheClientIsTold) {
  auto client = start_mariadb("dan", *dan_, "UPDATE items SET name = 'x';\n");
  const auto id = wait_for_pending("dan", "UPDATE items SET name");
  ASSERT_FALSE(id.empty()) << client.stderr_text();
  ASSERT_TRUE(review("reject", id).ok());
  const auto status = client.wait(30s);
  EXPECT_FALSE(status.success());
  EXPECT_NE(client.stderr_text().find("ERROR 1142 (42000)"), std::string::npos)
      << client.stderr_text();
  EXPECT_NE(client.stderr_text().find(id), std::string::npos) << client.stderr_text();
  EXPECT_EQ(mariadb_->mariadb_root("SELECT COUNT(*) FROM items WHERE name = 'x'").stdout_text,
            "0\n");
}

TEST_F(MysqlReviewTest, RevokingASubjectEndsItsLiveSessions) {
  const auto rex = gateway_->token_for("rex", "dba");
  MysqlWireClient client(gateway_->port(), "rex", rex, "shop");
  ASSERT_TRUE(client.ok()) << client.login_error();
  ASSERT_TRUE(client.query("SELECT 1").ok);
  auto revoked = gateway_->cli({"revoke", "--subject", "rex", "--reason", "laptop stolen", "--api",
                                api_url(), "--token", *admin_});
  ASSERT_TRUE(revoked.ok()) << revoked.describe();
  EXPECT_NE(revoked.stdout_text.find("1 live session"), std::string::npos) << revoked.stdout_text;
  // The next command finds the session ended, with the reason.
  auto after = client.query("SELECT 1");
  EXPECT_FALSE(after.ok);
  EXPECT_TRUE(after.closed || after.error.find("revoked") != std::string::npos) << after.error;
  // And the token no longer logs in.
  MysqlWireClient again(gateway_->port(), "rex", rex, "shop");
  EXPECT_FALSE(again.ok());
}

}  // namespace
}  // namespace portcullis::testing
