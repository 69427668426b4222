// End to end: the MySQL front end of the real gateway in front of a real MariaDB, with the real
// mariadb client, PyMySQL and a raw-protocol client — token login and its refusals, masking of
// text and binary results and of error messages, read-only enforced twice, guardrails with
// MySQL's own evasions (executable comments, `#` comments, backticks, multi-statements,
// PREPARE), commands no caller may send, KILL QUERY, LOCAL INFILE, TLS and the journal.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "mysql_gateway.h"
#include "proto/mysql/capabilities.h"
#include "proto/mysql/packet.h"
#include "support/full_disk.h"
#include "support/mariadb_server.h"
#include "support/mysql_wire_client.h"
#include "support/test_certificates.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;
using proto::mysql::CommandCode;

constexpr const char* kMysqlProxyGuardrails =
    "guardrails:\n"
    "  - name: no-drops\n"
    "    when: { statements: [drop_table, drop_database, truncate] }\n"
    "    action: deny\n"
    "    message: dropping tables is not allowed through the gateway\n"
    "  - name: no-server-files\n"
    "    when: { functions: [load_file], statements: [select_into_outfile, load_data] }\n"
    "    action: deny\n";

// Writers write and see PII masked: for masked error messages.
constexpr const char* kMysqlProxyAccess =
    "access:\n"
    "  - name: dba\n"
    "    who: { groups: [dba] }\n"
    "    connections: [shop]\n"
    "    credentials: default\n"
    "    allow: [read, write, ddl, dcl, admin, session, transaction]\n"
    "  - name: engineering\n"
    "    who: { groups: [engineering] }\n"
    "    connections: [shop]\n"
    "    credentials: readonly\n"
    "    allow: [read]\n"
    "    masking: pii\n"
    "  - name: writers\n"
    "    who: { groups: [writers] }\n"
    "    connections: [shop]\n"
    "    credentials: default\n"
    "    allow: [read, write]\n"
    "    masking: pii\n"
    "  - name: ed25519-backend\n"
    "    who: { groups: [ed25519-backend] }\n"
    "    connections: [shop]\n"
    "    credentials: ed25519\n"
    "    allow: [read]\n";

class MysqlProxyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mariadb_ = new MariadbServer();
    MysqlGatewayOptions options;
    options.access_section = kMysqlProxyAccess;
    options.guardrails_section = kMysqlProxyGuardrails;
    gateway_ = new MysqlGateway(*mariadb_, options);
    dba_ = new std::string(gateway_->token_for("dana", "dba"));
    eng_ = new std::string(gateway_->token_for("erin", "engineering"));
    writer_ = new std::string(gateway_->token_for("walt", "writers"));
  }
  static void TearDownTestSuite() {
    delete writer_;
    delete eng_;
    delete dba_;
    delete gateway_;
    delete mariadb_;
  }

  void SetUp() override {
    auto setup = mariadb_->mariadb_root(
        "DROP TABLE IF EXISTS customers;"
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(80) UNIQUE,"
        " ssn VARCHAR(11), card BIGINT);"
        "INSERT INTO customers VALUES (1, 'Alice', 'alice@example.com', '123-45-6789',"
        " 4111111111111111), (2, 'Bob', 'bob@example.org', '987-65-4320', NULL);");
    ASSERT_TRUE(setup.ok()) << setup.describe();
  }

  static std::string count_customers() {
    auto count = mariadb_->mariadb_root("SELECT COUNT(*) FROM customers");
    return count.stdout_text;
  }

  static MariadbServer* mariadb_;
  static MysqlGateway* gateway_;
  static std::string* dba_;
  static std::string* eng_;
  static std::string* writer_;
};

MariadbServer* MysqlProxyTest::mariadb_ = nullptr;
MysqlGateway* MysqlProxyTest::gateway_ = nullptr;
std::string* MysqlProxyTest::dba_ = nullptr;
std::string* MysqlProxyTest::eng_ = nullptr;
std::string* MysqlProxyTest::writer_ = nullptr;

TEST_F(MysqlProxyTest, ReadsThroughTheGatewayWithPiiMasked) {
  auto result = gateway_->mariadb("erin", *eng_,
                                  "SELECT id, name, email, ssn, card FROM customers ORDER BY id");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text,
            "1\tAlice\t[email]\t[redacted]\t[credit_card]\n"
            "2\tBob\t[email]\t[redacted]\tNULL\n");
  // A computed column fed by a column masked by name is masked as that column is.
  auto computed =
      gateway_->mariadb("erin", *eng_, "SELECT CONCAT(ssn, '') FROM customers WHERE id = 1");
  ASSERT_TRUE(computed.ok()) << computed.describe();
  EXPECT_EQ(computed.stdout_text, "[redacted]\n");
  // The dba sees the data as it is, and the backend's own version.
  auto plain = gateway_->mariadb("dana", *dba_,
                                 "SELECT email FROM customers WHERE id = 1; SELECT VERSION()");
  ASSERT_TRUE(plain.ok()) << plain.describe();
  EXPECT_EQ(plain.stdout_text, "alice@example.com\n" + mariadb_->version() + "\n");
}

TEST_F(MysqlProxyTest, LogsInToTheBackendWithClientEd25519) {
  // The backend user authenticates with MariaDB's ed25519 plugin: each login signs a fresh
  // nonce (several logins, so that nonces of every shape are signed).
  const auto token = gateway_->token_for("edgar", "ed25519-backend");
  for (int i = 0; i < 8; ++i) {
    MysqlWireClient client(gateway_->port(), "edgar", token, "shop");
    ASSERT_TRUE(client.ok()) << client.login_error();
    auto user = client.query("SELECT CURRENT_USER()");
    ASSERT_TRUE(user.ok) << user.error;
    ASSERT_EQ(user.rows.size(), 1u);
    EXPECT_EQ(user.rows[0][0], "ed25519_user@%");
  }
}

TEST_F(MysqlProxyTest, RefusesBadTokensAndUnknownConnections) {
  auto bad = gateway_->mariadb("erin", "not-a-token", "SELECT 1");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.stderr_text.find("ERROR 1045 (28000)"), std::string::npos) << bad.stderr_text;
  EXPECT_NE(bad.stderr_text.find("portcullis: authentication failed"), std::string::npos);
  // A token is bound to its subject.
  auto other = gateway_->mariadb("mallory", *eng_, "SELECT 1");
  EXPECT_NE(other.stderr_text.find("ERROR 1045"), std::string::npos) << other.stderr_text;
  auto unknown = gateway_->mariadb("erin", *eng_, "SELECT 1", {}, "nowhere");
  EXPECT_NE(unknown.stderr_text.find("ERROR 1049 (42000)"), std::string::npos)
      << unknown.stderr_text;
}

TEST_F(MysqlProxyTest, ReadOnlyIsEnforcedTwice) {
  // The backend session itself is read-only...
  auto flag = gateway_->mariadb("erin", *eng_, "SELECT @@SESSION.tx_read_only");
  ASSERT_TRUE(flag.ok()) << flag.describe();
  EXPECT_EQ(flag.stdout_text, "1\n");
  // ...and the caller cannot lift it, whichever way it is asked.
  for (const char* lift : {"SET SESSION TRANSACTION READ WRITE", "SET @@SESSION.tx_read_only = 0",
                           "SET SESSION transaction_read_only = OFF",
                           "START TRANSACTION READ WRITE", "SET tx_read_only=0"}) {
    auto lifted = gateway_->mariadb("erin", *eng_, lift);
    EXPECT_FALSE(lifted.ok()) << lift;
    EXPECT_NE(lifted.stderr_text.find("ERROR 1142 (42000)"), std::string::npos)
        << lift << ": " << lifted.stderr_text;
  }
  // COM_RESET_CONNECTION returns the backend session to its defaults: the gateway makes it
  // read-only again.
  MysqlWireClient client(gateway_->port(), "erin", *eng_, "shop");
  ASSERT_TRUE(client.ok()) << client.login_error();
  auto reset = client.command(std::string(1, static_cast<char>(CommandCode::reset_connection)));
  ASSERT_TRUE(reset.ok) << reset.error;
  auto after = client.query("SELECT @@SESSION.tx_read_only");
  ASSERT_TRUE(after.ok) << after.error;
  ASSERT_EQ(after.rows.size(), 1u);
  EXPECT_EQ(after.rows[0][0], "1");
}

TEST_F(MysqlProxyTest, DecidesExecutableCommentsAsTheServerRunsThem) {
  // Code inside /*! */ runs: refused for a read-only caller.
  for (const char* hidden :
       {"/*!50000 DELETE FROM customers */", "SELECT 1 /*! ; DELETE FROM customers */",
        "/*M!100000 DELETE FROM customers */", "DELETE/**/FROM`customers`",
        "SELECT 1 # comment\n; DELETE FROM customers"}) {
    auto run = gateway_->mariadb("erin", *eng_, hidden);
    EXPECT_FALSE(run.ok()) << hidden;
    EXPECT_NE(run.stderr_text.find("ERROR 1142"), std::string::npos)
        << hidden << ": " << run.stderr_text;
  }
  // A comment versioned beyond the backend's version is a comment: what remains is read.
  auto skipped = gateway_->mariadb("erin", *eng_,
                                   "SELECT 7 /*!999999 , (SELECT 1 FROM customers FOR UPDATE) */");
  ASSERT_TRUE(skipped.ok()) << skipped.describe();
  EXPECT_EQ(skipped.stdout_text, "7\n");
  EXPECT_EQ(count_customers(), "2\n");
}

TEST_F(MysqlProxyTest, DecidesAMultiStatementTextAsAWhole) {
  // The mariadb client splits its input at `;`: a raw COM_QUERY carries both statements.
  // One statement refused: none runs, not even the INSERT before it.
  MysqlWireClient client(gateway_->port(), "dana", *dba_, "shop");
  ASSERT_TRUE(client.ok()) << client.login_error();
  auto run =
      client.query("INSERT INTO customers (id, name) VALUES (3, 'Carol'); DROP TABLE customers");
  EXPECT_FALSE(run.ok);
  EXPECT_EQ(run.error_code, 1142);
  EXPECT_NE(run.error.find("blocked by rule \"no-drops\""), std::string::npos) << run.error;
  EXPECT_EQ(count_customers(), "2\n");
  // Allowed ones run in order, each with its own result.
  auto both =
      client.query("SELECT COUNT(*) FROM customers; SELECT name FROM customers WHERE id = 2");
  ASSERT_TRUE(both.ok) << both.error;
  EXPECT_EQ(both.results, 2u);
  ASSERT_EQ(both.rows.size(), 2u);
  EXPECT_EQ(both.rows[1][0], "Bob");
}

TEST_F(MysqlProxyTest, ReadsTextAsTheServerWillAfterSqlModeChanges) {
  MysqlWireClient client(gateway_->port(), "erin", *eng_, "shop");
  ASSERT_TRUE(client.ok()) << client.login_error();
  // Within one text the server reads what follows a SET sql_mode with the new mode, which the
  // gateway cannot know before it ran: such a text is refused whole.
  auto hidden = client.query(
      "SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT 'a\\' ; DELETE FROM customers; -- '");
  EXPECT_FALSE(hidden.ok);
  EXPECT_EQ(hidden.error_code, 1142) << hidden.error;
  EXPECT_NE(hidden.error.find("would change how the server reads"), std::string::npos)
      << hidden.error;
  // Alone, the setting is allowed (stock clients send it) and followed: the next text is read
  // without backslash escapes, as the server reads it, and the DELETE in it is seen.
  auto set = client.query("SET sql_mode = 'NO_BACKSLASH_ESCAPES'");
  ASSERT_TRUE(set.ok) << set.error;
  auto smuggled = client.query("SELECT 'a\\' ; DELETE FROM customers; -- '");
  EXPECT_FALSE(smuggled.ok);
  EXPECT_EQ(smuggled.error_code, 1142) << smuggled.error;
  EXPECT_NE(smuggled.error.find("(delete)"), std::string::npos) << smuggled.error;
  // ANSI_QUOTES: "..." is an identifier, and a quoted DELETE is seen as code.
  ASSERT_TRUE(client.query("SET sql_mode = 'ANSI_QUOTES'").ok);
  auto quoted = client.query("SELECT \"a\" FROM customers WHERE \"\"=\"\" ; DELETE FROM customers");
  EXPECT_FALSE(quoted.ok);
  EXPECT_EQ(count_customers(), "2\n");
  // A character set that can hide a quote inside a character is refused.
  auto gbk = client.query("SET NAMES gbk");
  EXPECT_FALSE(gbk.ok);
  EXPECT_EQ(gbk.error_code, 1142) << gbk.error;
}

TEST_F(MysqlProxyTest, DecidesPreparedTextsAndRefusesWhatCannotBeKnown) {
  auto from_text = gateway_->mariadb("erin", *eng_, "PREPARE s FROM 'DELETE FROM customers'");
  EXPECT_NE(from_text.stderr_text.find("ERROR 1142"), std::string::npos) << from_text.stderr_text;
  auto from_variable =
      gateway_->mariadb("dana", *dba_, "SET @q = 'DROP TABLE customers'; PREPARE s FROM @q");
  EXPECT_FALSE(from_variable.ok());
  EXPECT_NE(from_variable.stderr_text.find("ERROR 1142"), std::string::npos)
      << from_variable.stderr_text;
  EXPECT_EQ(count_customers(), "2\n");
}

TEST_F(MysqlProxyTest, ExecuteIsDecidedAndMaskedAsThePreparedStatement) {
  MysqlWireClient client(gateway_->port(), "erin", *eng_, "shop");
  ASSERT_TRUE(client.ok()) << client.login_error();
  // A computed column of a masked column, run through EXECUTE: masked by lineage as it would
  // be when run directly. Names are case-insensitive, as the server's are.
  auto prepared = client.query(
      "PREPARE s FROM 'SELECT CONCAT(ssn, \\'\\') FROM customers "
      "WHERE id = 1'");
  ASSERT_TRUE(prepared.ok) << prepared.error;
  for (const char* execute : {"EXECUTE s", "EXECUTE S", "execute `s`"}) {
    auto rows = client.query(execute);
    ASSERT_TRUE(rows.ok) << execute << ": " << rows.error;
    ASSERT_EQ(rows.rows.size(), 1u) << execute;
    EXPECT_EQ(rows.rows[0][0], "[redacted]") << execute;
  }
  // A name the backend has not prepared, or no longer has, is unknown to the gateway.
  for (const char* unknown : {"EXECUTE nothing", "DEALLOCATE PREPARE s"}) {
    auto answer = client.query(unknown);
    if (std::string_view(unknown).starts_with("DEALLOCATE")) {
      EXPECT_TRUE(answer.ok) << answer.error;
      continue;
    }
    EXPECT_FALSE(answer.ok);
    EXPECT_EQ(answer.error_code, 1142) << answer.error;
  }
  auto gone = client.query("EXECUTE s");
  EXPECT_FALSE(gone.ok);
  EXPECT_EQ(gone.error_code, 1142) << gone.error;
  EXPECT_NE(gone.error.find("portcullis"), std::string::npos) << gone.error;
  // A PREPARE that fails drops the name on the server: the gateway forgets it too.
  ASSERT_TRUE(client.query("PREPARE t FROM 'SELECT 1'").ok);
  EXPECT_FALSE(client.query("PREPARE t FROM 'SELECT FROM'").ok);
  auto dropped = client.query("EXECUTE t");
  EXPECT_EQ(dropped.error_code, 1142) << dropped.error;
  // Prepared and run in one text.
  auto one_text = gateway_->mariadb(
      "erin", *eng_, "PREPARE u FROM 'SELECT email FROM customers WHERE id = 2'; EXECUTE u");
  ASSERT_TRUE(one_text.ok()) << one_text.describe();
  EXPECT_EQ(one_text.stdout_text, "[email]\n");
}

TEST_F(MysqlProxyTest, MasksTheBinaryProtocolAndRefusesWhatItCannotMask) {
  MysqlWireClient client(gateway_->port(), "erin", *eng_, "shop");
  ASSERT_TRUE(client.ok()) << client.login_error();
  auto statement = client.prepare("SELECT name, email FROM customers WHERE id = ?");
  ASSERT_TRUE(statement.ok) << statement.error;
  auto rows = client.execute(statement, {"1"});
  ASSERT_TRUE(rows.ok) << rows.error;
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0][0], "Alice");
  EXPECT_EQ(rows.rows[0][1], "[email]");
  // With a cursor: the rows come with COM_STMT_FETCH, masked the same way.
  auto opened = client.execute(statement, {"2"}, proto::mysql::kCursorTypeReadOnly);
  ASSERT_TRUE(opened.ok) << opened.error;
  auto fetched = client.fetch(statement, 10);
  ASSERT_TRUE(fetched.ok) << fetched.error;
  ASSERT_EQ(fetched.rows.size(), 1u);
  EXPECT_EQ(fetched.rows[0][1], "[email]");
  // A card number in a BIGINT cannot be rewritten in the binary protocol: the result is
  // withheld with an error that says why, and the session goes on.
  auto card = client.prepare("SELECT card FROM customers WHERE id = ?");
  ASSERT_TRUE(card.ok) << card.error;
  auto withheld = client.execute(card, {"1"});
  EXPECT_FALSE(withheld.ok);
  EXPECT_NE(withheld.error.find("result withheld"), std::string::npos) << withheld.error;
  auto next = client.query("SELECT 1");
  EXPECT_TRUE(next.ok) << next.error;
  // A write prepared by a read-only caller is refused when prepared.
  auto write = client.prepare("DELETE FROM customers WHERE id = ?");
  EXPECT_FALSE(write.ok);
  EXPECT_EQ(write.error_code, 1142) << write.error;
  EXPECT_EQ(count_customers(), "2\n");
}

TEST_F(MysqlProxyTest, MasksValuesInErrorMessages) {
  auto duplicate = gateway_->mariadb(
      "walt", *writer_, "INSERT INTO customers (id, email) VALUES (9, 'alice@example.com')");
  EXPECT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.stderr_text.find("ERROR 1062 (23000)"), std::string::npos)
      << duplicate.stderr_text;
  // The client echoes its own statement before the error: only the server's line counts.
  const auto line = duplicate.stderr_text.substr(duplicate.stderr_text.find("ERROR 1062"));
  EXPECT_EQ(line.find("alice@example.com"), std::string::npos) << line;
  EXPECT_NE(line.find("Duplicate entry '[email]'"), std::string::npos) << line;
}

TEST_F(MysqlProxyTest, RefusesCommandsNoCallerMaySend) {
  MysqlWireClient client(gateway_->port(), "dana", *dba_, "shop");
  ASSERT_TRUE(client.ok()) << client.login_error();
  std::string binlog_dump;
  proto::mysql::PacketWriter(binlog_dump)
      .u8(static_cast<uint8_t>(CommandCode::binlog_dump))
      .u32(4)
      .u16(0)
      .u32(1)
      .bytes("mysql-bin.000001");
  std::string change_user(1, static_cast<char>(CommandCode::change_user));
  change_user += std::string("root\0\0app\0", 10);
  for (const std::string& packet :
       {binlog_dump, change_user, std::string(1, static_cast<char>(CommandCode::shutdown)),
        std::string(1, static_cast<char>(CommandCode::register_slave))}) {
    auto refused = client.command(packet);
    EXPECT_FALSE(refused.ok);
    EXPECT_NE(refused.error.find("is not allowed through the gateway"), std::string::npos)
        << refused.error;
  }
  // USE reaches the connection's own database only.
  auto other_db = client.command(std::string(1, static_cast<char>(CommandCode::init_db)) + "mysql");
  EXPECT_FALSE(other_db.ok);
  EXPECT_NE(other_db.error.find("only the database of connection"), std::string::npos)
      << other_db.error;
  auto own = client.command(std::string(1, static_cast<char>(CommandCode::init_db)) + "shop");
  EXPECT_TRUE(own.ok) << own.error;
  // The session goes on.
  auto still = client.query("SELECT COUNT(*) FROM customers");
  ASSERT_TRUE(still.ok) << still.error;
  EXPECT_EQ(still.rows.at(0).at(0), "2");
}

TEST_F(MysqlProxyTest, NeverRelaysARequestForAClientFile) {
  // Even with the client willing to send its files, the gateway never offers it: the server
  // refuses LOAD DATA LOCAL, and nothing of the client's disk reaches it.
  auto load = gateway_->mariadb("dana", *dba_,
                                "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE customers",
                                {"--local-infile=1"});
  EXPECT_FALSE(load.ok());
  EXPECT_EQ(count_customers(), "2\n");
}

TEST_F(MysqlProxyTest, KillQueryReachesOnlyTheCallersOwnSession) {
  MysqlWireClient sleeper(gateway_->port(), "dana", *dba_, "shop");
  ASSERT_TRUE(sleeper.ok()) << sleeper.login_error();
  const uint32_t id = sleeper.connection_id();
  auto sleeping = std::async(std::launch::async, [&] { return sleeper.query("SELECT SLEEP(60)"); });
  std::this_thread::sleep_for(500ms);
  // Another caller cannot kill it, nor learn that it exists.
  auto stranger = gateway_->mariadb("erin", *eng_, fmt::format("KILL QUERY {}", id));
  EXPECT_NE(stranger.stderr_text.find("ERROR 1094"), std::string::npos) << stranger.stderr_text;
  EXPECT_EQ(sleeping.wait_for(200ms), std::future_status::timeout);
  // Its owner can, from a second connection, with the id the gateway gave it (Ctrl-C).
  const auto started = std::chrono::steady_clock::now();
  auto killed = gateway_->mariadb("dana", *dba_, fmt::format("KILL QUERY {}", id));
  EXPECT_TRUE(killed.ok()) << killed.describe();
  ASSERT_EQ(sleeping.wait_for(20s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  sleeping.get();
  auto after = sleeper.query("SELECT 1");
  EXPECT_TRUE(after.ok) << after.error;
}

TEST_F(MysqlProxyTest, PyMysqlReadsMaskedRows) {
  ChildOptions child;
  child.argv = {"/usr/bin/python3", "-c",
                "import os, pymysql\n"
                "c = pymysql.connect(host='127.0.0.1', port=int(os.environ['PORT']), user='erin',"
                " password=os.environ['TOKEN'], database='shop')\n"
                "cur = c.cursor()\n"
                "cur.execute('SELECT email FROM customers WHERE id = %s', (1,))\n"
                "print(cur.fetchone()[0])\n"};
  child.env = {{"PORT", std::to_string(gateway_->port())}, {"TOKEN", *eng_}};
  auto run = run_command(std::move(child), 60s);
  ASSERT_TRUE(run.ok()) << run.describe();
  EXPECT_EQ(run.stdout_text, "[email]\n");
}

TEST_F(MysqlProxyTest, MariadbDumpWorksForAReadOnlyCaller) {
  ChildOptions child;
  child.argv = {mariadb_bin("mariadb-dump").string(),
                "--no-defaults",
                "--protocol=TCP",
                "--host=127.0.0.1",
                "--port=" + std::to_string(gateway_->port()),
                "--user=erin",
                "--single-transaction",
                "--skip-lock-tables",
                "--no-tablespaces",
                "shop",
                "customers"};
  child.env = {{"MYSQL_PWD", *eng_}};
  auto dump = run_command(std::move(child), 60s);
  ASSERT_TRUE(dump.ok()) << dump.describe();
  EXPECT_NE(dump.stdout_text.find("CREATE TABLE `customers`"), std::string::npos);
  EXPECT_NE(dump.stdout_text.find("[email]"), std::string::npos);
  EXPECT_EQ(dump.stdout_text.find("alice@example.com"), std::string::npos);
}

TEST_F(MysqlProxyTest, RecordsStatementsAndWhatWasMasked) {
  auto run = gateway_->mariadb("erin", *eng_, "SELECT email FROM customers WHERE id = 2");
  ASSERT_TRUE(run.ok()) << run.describe();
  // The searchable index follows the journal a moment later.
  auto find = [](const std::vector<std::string>& args, std::string_view wanted) {
    RunResult search;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    do {
      search = gateway_->cli(args);
      if (search.stdout_text.find(wanted) != std::string::npos) break;
      std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return search.stdout_text;
  };
  const auto statement = find({"audit", "search", "--subject", "erin", "--contains", "WHERE id = 2",
                               "--json", "--limit", "1"},
                              "\"protocol\":\"mysql\"");
  EXPECT_NE(statement.find("\"protocol\":\"mysql\""), std::string::npos) << statement;
  EXPECT_NE(statement.find("\"kinds\":[\"select\"]"), std::string::npos) << statement;
  const auto result =
      find({"audit", "search", "--subject", "erin", "--event", "result", "--json", "--limit", "1"},
           "\"email\":1");
  EXPECT_NE(result.find("\"masked\":{\"email\":1}"), std::string::npos) << result;
  EXPECT_NE(result.find("\"rows\":1"), std::string::npos) << result;
  auto verify = gateway_->cli({"audit", "verify"});
  EXPECT_TRUE(verify.ok()) << verify.describe();
}

// TLS on both sides: the caller's token travels inside TLS, and the backend is reached over
// TLS checked against its CA.
TEST(MysqlTls, CarriesTheTokenAndTheBackendConnectionOverTls) {
  TestCertificates certs;
  MariadbOptions server_options;
  server_options.ssl = true;
  server_options.ssl_cert_file = certs.cert_file();
  server_options.ssl_key_file = certs.key_file();
  MariadbServer mariadb(server_options);
  MysqlGatewayOptions options;
  options.tls_section = fmt::format("tls:\n  cert_file: {}\n  key_file: {}\n  plaintext: never\n",
                                    certs.cert_file().string(), certs.key_file().string());
  options.backend_tls = "verify-full";
  options.backend_ca_file = certs.ca_file();
  MysqlGateway gateway(mariadb, options);
  const auto token = gateway.token_for("dana", "dba");
  auto plain = gateway.mariadb("dana", token, "SELECT 1", {"--skip-ssl"});
  EXPECT_FALSE(plain.ok());
  EXPECT_NE(plain.stderr_text.find("TLS"), std::string::npos) << plain.stderr_text;
  auto tls = gateway.mariadb(
      "dana", token, "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
      {"--ssl", "--ssl-ca=" + certs.ca_file().string(), "--ssl-verify-server-cert"});
  ASSERT_TRUE(tls.ok()) << tls.describe();
  // The backend's session (what SHOW STATUS reports) is encrypted too.
  EXPECT_NE(tls.stdout_text.find("Ssl_cipher\tTLS"), std::string::npos) << tls.stdout_text;

  // MySQL has no answer to an SSLRequest: a client may send its TLS ClientHello in the same
  // segment (a loaded machine coalesces them). The gateway must read it as the handshake.
  ChildOptions coalesced;
  coalesced.argv = {
      "/usr/bin/python3", "-c",
      "import os, socket, ssl, struct\n"
      "s = socket.create_connection(('127.0.0.1', int(os.environ['PORT'])))\n"
      "head = s.recv(4); s.recv(struct.unpack('<I', head[:3] + b'\\0')[0])  # the greeting\n"
      "caps = 0x200 | 0x800 | 0x8000 | 0x80000\n"
      "body = struct.pack('<IIB', caps, 1 << 24, 45) + bytes(23)\n"
      "request = struct.pack('<I', len(body))[:3] + bytes([1]) + body\n"
      "context = ssl.create_default_context(cafile=os.environ['CA'])\n"
      "incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()\n"
      "tls = context.wrap_bio(incoming, outgoing, server_hostname='127.0.0.1')\n"
      "try:\n"
      "    tls.do_handshake()\n"
      "except ssl.SSLWantReadError:\n"
      "    pass\n"
      "s.sendall(request + outgoing.read())  # SSLRequest and ClientHello in one write\n"
      "while True:\n"
      "    try:\n"
      "        tls.do_handshake(); break\n"
      "    except ssl.SSLWantReadError:\n"
      "        s.sendall(outgoing.read())\n"
      "        data = s.recv(65536)\n"
      "        if not data: raise SystemExit('closed during the handshake')\n"
      "        incoming.write(data)\n"
      "print(tls.version())\n"};
  coalesced.env = {{"PORT", std::to_string(gateway.port())}, {"CA", certs.ca_file().string()}};
  auto handshake = run_command(std::move(coalesced), 60s);
  ASSERT_TRUE(handshake.ok()) << handshake.describe();
  EXPECT_TRUE(handshake.stdout_text.starts_with("TLSv1.")) << handshake.stdout_text;
}

// Strict audit in a read-only backend session: a command goes to the backend while its record
// is being synced, but its answer waits for the record. When the record cannot be written the
// client gets the journal's error in place of the answer, and no row.
TEST(MysqlAuditFailClosed, AReadOnlySessionGetsNoRowOfAReadWhoseRecordFailed) {
  MariadbOptions server_options;
  server_options.log_statements = true;
  MariadbServer mariadb(server_options);
  MysqlGateway gateway(mariadb);
  const auto token = gateway.token_for("erin", "engineering");
  MysqlWireClient client(gateway.port(), "erin", token, "shop");
  ASSERT_TRUE(client.ok()) << client.login_error();
  auto before = client.query("SELECT 'before the lock'");
  ASSERT_TRUE(before.ok) << before.error;
  ASSERT_EQ(before.rows.size(), 1u);

  FullDisk full(gateway.process().pid());
  auto answer = client.query("SELECT 'read while locked'");
  EXPECT_FALSE(answer.ok);
  EXPECT_TRUE(answer.rows.empty());
  EXPECT_NE(answer.error.find("audit journal cannot be written"), std::string::npos)
      << answer.error << (answer.closed ? " (closed)" : "");
  full.release();

  // The read did reach the backend: the answer waited, not the command.
  bool reached = false;
  for (int i = 0; i < 50 && !reached; ++i) {
    reached = mariadb.general_log_text().find("SELECT 'read while locked'") != std::string::npos;
    if (!reached) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(reached);
}

}  // namespace
}  // namespace portcullis::testing
