// Checks that the test MariaDB does what the MySQL front end's tests rely on: each user logs in
// over TCP with its authentication method through the real mariadb client and PyMySQL, the
// read-only user cannot write, TLS verifies against the test CA, and servers run side by side.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <string>

#include "contains.h"
#include "support/child_process.h"
#include "support/mariadb_server.h"
#include "support/test_certificates.h"
#include "trimmed.h"

namespace portcullis::testing {
namespace {

// Debian's python3-pymysql is installed for the system interpreter, which another python3
// earlier on PATH (a virtualenv, pyenv) would not see.
constexpr const char* kSystemPython = "/usr/bin/python3";

class MariadbServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new MariadbServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static MariadbServer* server_;
};

MariadbServer* MariadbServerTest::server_ = nullptr;

TEST_F(MariadbServerTest, RootRunsSqlOverTheSocket) {
  RunResult result = server_->mariadb_root("SELECT CURRENT_USER(), DATABASE();");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "root@localhost\tapp\n");
}

TEST_F(MariadbServerTest, ListensOnLoopbackTcpPort) {
  RunResult result = server_->mariadb_root("SELECT @@bind_address, @@port;");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, fmt::format("127.0.0.1\t{}\n", server_->port()));
}

TEST_F(MariadbServerTest, ReportsItsVersion) {
  EXPECT_TRUE(contains(server_->version(), "MariaDB")) << server_->version();
}

TEST_F(MariadbServerTest, RootIsNotReachableOverTcp) {
  RunResult result = server_->mariadb({std::string(MariadbServer::kRootUser), ""}, "SELECT 1;");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.stderr_text, "Access denied")) << result.describe();
}

TEST_F(MariadbServerTest, NativeUserAuthenticatesWithNativePassword) {
  RunResult result = server_->mariadb(server_->native_user(), "SELECT CURRENT_USER();");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "native_user@%\n");
  RunResult stored =
      server_->mariadb_root("SELECT plugin FROM mysql.user WHERE user = 'native_user';");
  EXPECT_EQ(stored.stdout_text, "mysql_native_password\n") << stored.describe();
}

TEST_F(MariadbServerTest, NativeUserIsRefusedWithAWrongPassword) {
  MariadbUser wrong{server_->native_user().name, "not-the-password"};
  RunResult result = server_->mariadb(wrong, "SELECT 1;");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.stderr_text, "Access denied")) << result.describe();
}

TEST_F(MariadbServerTest, Ed25519UserAuthenticatesWithEd25519) {
  RunResult result = server_->mariadb(server_->ed25519_user(), "SELECT CURRENT_USER();");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "ed25519_user@%\n");
  RunResult stored =
      server_->mariadb_root("SELECT plugin FROM mysql.user WHERE user = 'ed25519_user';");
  EXPECT_EQ(stored.stdout_text, "ed25519\n") << stored.describe();
  MariadbUser wrong{server_->ed25519_user().name, "not-the-password"};
  RunResult refused = server_->mariadb(wrong, "SELECT 1;");
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(contains(refused.stderr_text, "Access denied")) << refused.describe();
}

TEST_F(MariadbServerTest, ReadWriteUsersOwnTheAppDatabase) {
  RunResult result = server_->mariadb(server_->native_user(),
                                      "CREATE TABLE harness_owned (id INT PRIMARY KEY);"
                                      "INSERT INTO harness_owned VALUES (1), (2);"
                                      "SELECT COUNT(*) FROM harness_owned;");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "2\n");
  RunResult dropped = server_->mariadb(server_->ed25519_user(), "DROP TABLE harness_owned;");
  EXPECT_TRUE(dropped.ok()) << dropped.describe();
}

TEST_F(MariadbServerTest, ReadonlyUserReadsButCannotWrite) {
  ASSERT_TRUE(server_
                  ->mariadb_root("CREATE TABLE readonly_probe (id INT); INSERT INTO readonly_probe "
                                 "VALUES (7);")
                  .ok());
  RunResult read = server_->mariadb(server_->readonly_user(), "SELECT id FROM readonly_probe;");
  ASSERT_TRUE(read.ok()) << read.describe();
  EXPECT_EQ(read.stdout_text, "7\n");
  RunResult insert =
      server_->mariadb(server_->readonly_user(), "INSERT INTO readonly_probe VALUES (8);");
  EXPECT_FALSE(insert.ok());
  EXPECT_TRUE(contains(insert.stderr_text, "command denied")) << insert.describe();
  RunResult create =
      server_->mariadb(server_->readonly_user(), "CREATE TABLE not_allowed (id INT);");
  EXPECT_FALSE(create.ok());
  EXPECT_TRUE(contains(create.stderr_text, "command denied")) << create.describe();
  EXPECT_EQ(server_->mariadb_root("SELECT COUNT(*) FROM readonly_probe;").stdout_text, "1\n");
}

TEST_F(MariadbServerTest, PymysqlConnectsAsTheNativeUser) {
  // PyMySQL speaks client_ed25519 only with PyNaCl, which Debian does not install with it.
  const MariadbUser& user = server_->native_user();
  RunResult result = run_command({kSystemPython, "-c",
                                  "import os, pymysql\n"
                                  "connection = pymysql.connect(host=os.environ['DB_HOST'], "
                                  "port=int(os.environ['DB_PORT']), user=os.environ['DB_USER'], "
                                  "password=os.environ['DB_PASSWORD'], database='app')\n"
                                  "with connection.cursor() as cursor:\n"
                                  "    cursor.execute('SELECT CURRENT_USER()')\n"
                                  "    print(cursor.fetchone()[0])\n"},
                                 {{"DB_HOST", server_->host()},
                                  {"DB_PORT", std::to_string(server_->port())},
                                  {"DB_USER", user.name},
                                  {"DB_PASSWORD", user.password}});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "native_user@%\n");
}

TEST_F(MariadbServerTest, StopsAndStartsAgainOnTheSamePort) {
  const uint16_t port = server_->port();
  server_->stop();
  EXPECT_FALSE(server_->running());
  EXPECT_FALSE(server_->mariadb(server_->native_user(), "SELECT 1;").ok());
  server_->start();
  EXPECT_EQ(server_->port(), port);
  RunResult result = server_->mariadb(server_->native_user(), "SELECT 1;");
  EXPECT_TRUE(result.ok()) << result.describe();
}

TEST(MariadbServerOptions, LogsStatementsWhenAsked) {
  MariadbOptions options;
  options.log_statements = true;
  MariadbServer server(options);
  ASSERT_TRUE(server.mariadb(server.native_user(), "SELECT 'harness-marker-42';").ok());
  EXPECT_TRUE(contains(server.general_log_text(), "harness-marker-42"))
      << server.general_log_text();
}

TEST(MariadbServerOptions, AppliesExtraConfiguration) {
  MariadbOptions options;
  options.extra_conf = {"max_connections=17", "--max-allowed-packet=2M"};
  MariadbServer server(options);
  RunResult result = server.mariadb_root("SELECT @@max_connections, @@max_allowed_packet;");
  EXPECT_EQ(result.stdout_text, "17\t2097152\n") << result.describe();
}

TEST(MariadbServerOptions, ReportsTheServerLogWhenStartFails) {
  MariadbOptions options;
  options.extra_conf = {"no_such_option_in_mariadb=1"};
  try {
    MariadbServer server(options);
    ADD_FAILURE() << "a server with a bad option started";
  } catch (const std::runtime_error& error) {
    EXPECT_TRUE(contains(error.what(), "no_such_option_in_mariadb")) << error.what();
  }
}

TEST(MariadbServerOptions, TwoServersRunAtOnce) {
  MariadbServer first;
  MariadbServer second;
  EXPECT_NE(first.port(), second.port());
  ASSERT_TRUE(first.mariadb_root("CREATE TABLE only_in_first (id INT);").ok());
  EXPECT_TRUE(first.mariadb(first.native_user(), "SELECT * FROM only_in_first;").ok());
  RunResult second_result = second.mariadb(second.native_user(), "SELECT * FROM only_in_first;");
  EXPECT_FALSE(second_result.ok());
  EXPECT_TRUE(contains(second_result.stderr_text, "doesn't exist")) << second_result.describe();
  // Each has its own random passwords.
  EXPECT_FALSE(second.mariadb(first.native_user(), "SELECT 1;").ok());
}

TEST(MariadbServerOptions, ShutsDownAndRemovesItsDirectoryWhenDestroyed) {
  std::filesystem::path data_dir;
  pid_t pid = -1;
  {
    MariadbServer server;
    data_dir = server.data_dir();
    pid = server.pid();
    ASSERT_TRUE(std::filesystem::exists(data_dir / "mysql"));
    EXPECT_TRUE(contains(server.log_text(), "ready for connections"));
  }
  EXPECT_FALSE(std::filesystem::exists(data_dir));
  EXPECT_NE(::kill(pid, 0), 0) << "mariadbd " << pid << " still runs";
}

MariadbOptions mariadb_tls_options(const TestCertificates& certs) {
  MariadbOptions options;
  options.ssl = true;
  options.ssl_cert_file = certs.cert_file();
  options.ssl_key_file = certs.key_file();
  return options;
}

// The 10.11 client does not verify the server certificate unless told to, so each test says
// whether it does.
std::vector<std::string> verified_tls(const std::filesystem::path& ca_file) {
  return {"--ssl", "--ssl-ca=" + ca_file.string(), "--ssl-verify-server-cert"};
}

TEST(MariadbServerTls, VerifiesTheServerCertificateAgainstTheTestCa) {
  TestCertificates certs;
  MariadbServer server(mariadb_tls_options(certs));
  RunResult result = server.mariadb(server.ed25519_user(), "SHOW STATUS LIKE 'Ssl_cipher';",
                                    MariadbServer::kDatabase, verified_tls(certs.ca_file()));
  ASSERT_TRUE(result.ok()) << result.describe();
  ASSERT_TRUE(result.stdout_text.starts_with("Ssl_cipher\t")) << result.stdout_text;
  EXPECT_FALSE(trimmed(result.stdout_text.substr(sizeof("Ssl_cipher\t") - 1)).empty())
      << result.stdout_text;
}

TEST(MariadbServerTls, RefusesVerificationAgainstAnotherCa) {
  TestCertificates certs;
  TestCertificates other;
  MariadbServer server(mariadb_tls_options(certs));
  RunResult result = server.mariadb(server.native_user(), "SELECT 1;", MariadbServer::kDatabase,
                                    verified_tls(other.ca_file()));
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.stderr_text, "SSL")) << result.describe();
}

TEST(MariadbServerTls, PlainConnectionsHaveNoCipher) {
  MariadbServer server;
  RunResult result = server.mariadb(server.native_user(), "SHOW STATUS LIKE 'Ssl_cipher';");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "Ssl_cipher\t\n");
}

}  // namespace
}  // namespace portcullis::testing
