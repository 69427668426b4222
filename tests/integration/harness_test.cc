// Checks that the test harness does what the integration tests rely on: processes are
// started, waited for and killed; a real PostgreSQL accepts each authentication method;
// TLS to it verifies against the test CA; pgbench can load it.
#include <arpa/inet.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "support/child_process.h"
#include "support/free_port.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"
#include "trimmed.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;

TEST(FreeTcpPort, ReturnsAPortThatCanBeBound) {
  uint16_t port = free_tcp_port();
  ASSERT_NE(port, 0);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);
}

TEST(FreeTcpPort, NeverHandsOutAPortTwiceNorOneTheKernelCouldPickForBindZero) {
  int ephemeral_low = 0, ephemeral_high = 0;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low >> ephemeral_high;
  std::set<uint16_t> ports;
  for (int i = 0; i < 200; ++i) {
    const uint16_t port = free_tcp_port();
    EXPECT_TRUE(ports.insert(port).second) << port << " handed out twice";
    EXPECT_LT(port, ephemeral_low);
  }
}

TEST(FreeTcpPort, SkipsPortsAnotherProcessHolds) {
  const uint16_t port = free_tcp_port();
  // The reservation is a lock on /tmp/portcullis-test-ports/<port>; another process (flock
  // run as a child) cannot take it while this one lives.
  ChildOptions options;
  options.argv = {"/usr/bin/flock",
                  "--nonblock",
                  "--conflict-exit-code",
                  "7",
                  "/tmp/portcullis-test-ports/" + std::to_string(port),
                  "true"};
  ChildProcess child(std::move(options));
  const auto status = child.wait(std::chrono::seconds(10));
  EXPECT_EQ(status.exit_code, 7);
}

TEST(TempDir, RemovesItselfWithItsContent) {
  std::filesystem::path path;
  {
    TempDir dir;
    path = dir.path();
    std::filesystem::create_directories(dir / "a" / "b");
    EXPECT_TRUE(std::filesystem::is_directory(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ChildProcess, CapturesStdoutAndStderrSeparately) {
  RunResult result = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.stdout_text, "out\n");
  EXPECT_EQ(result.stderr_text, "err\n");
}

TEST(ChildProcess, DoesNotBlockOnLargeOutput) {
  // Far beyond a pipe's 64 KiB buffer.
  RunResult result = run_command({"sh", "-c", "head -c 8000000 /dev/zero | tr '\\0' x"}, {}, 30s);
  ASSERT_TRUE(result.ok()) << result.status.describe();
  EXPECT_EQ(result.stdout_text.size(), 8000000u);
}

TEST(ChildProcess, PassesAndRemovesEnvironmentVariables) {
  ::setenv("PORTCULLIS_HARNESS_REMOVED", "still here", 1);
  ChildOptions options;
  options.argv = {"sh", "-c",
                  "echo \"$PORTCULLIS_HARNESS_ADDED|${PORTCULLIS_HARNESS_REMOVED-unset}\""};
  options.env = {{"PORTCULLIS_HARNESS_ADDED", "added"}};
  options.unset_env = {"PORTCULLIS_HARNESS_REMOVED"};
  RunResult result = run_command(std::move(options));
  ::unsetenv("PORTCULLIS_HARNESS_REMOVED");
  EXPECT_EQ(result.stdout_text, "added|unset\n");
}

TEST(ChildProcess, RunsInTheGivenWorkingDirectoryWithStdin) {
  TempDir dir;
  ChildOptions options;
  options.argv = {"sh", "-c", "pwd; cat"};
  options.working_dir = dir.path();
  options.stdin_data = "from stdin";
  RunResult result = run_command(std::move(options));
  EXPECT_EQ(result.stdout_text, dir.path().string() + "\nfrom stdin");
}

TEST(ChildProcess, KillsTheChildWhenWaitTimesOut) {
  ChildProcess child({"sleep", "30"});
  auto started = std::chrono::steady_clock::now();
  ExitStatus status = child.wait(200ms);
  EXPECT_TRUE(status.timed_out);
  EXPECT_EQ(status.signal, SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, TerminateSendsSigtermFirst) {
  ChildProcess child({"sh", "-c",
                      "trap 'echo got-term; exit 7' TERM; echo ready; "
                      "while true; do sleep 0.05; done"});
  ASSERT_TRUE(child.wait_for_output("ready", 10s));
  ExitStatus status = child.terminate(10s);
  EXPECT_EQ(status.exit_code, 7) << status.describe();
  EXPECT_NE(child.stdout_text().find("got-term"), std::string::npos);
}

TEST(ChildProcess, TerminateFallsBackToSigkill) {
  ChildProcess child({"sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.05; done"});
  ASSERT_TRUE(child.wait_for_output("ready", 10s));
  ExitStatus status = child.terminate(300ms);
  EXPECT_EQ(status.signal, SIGKILL) << status.describe();
}

TEST(ChildProcess, ReportsAProgramThatCannotStart) {
  EXPECT_THROW(ChildProcess({"/nonexistent/program"}), std::runtime_error);
  EXPECT_THROW(ChildProcess({"no-such-program-on-path"}), std::runtime_error);
}

TEST(ChildProcess, RunsAsAnotherUserWhenRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::optional<ServerUser> user = server_user();
  ASSERT_TRUE(user);
  ChildOptions options;
  options.argv = {"id", "-u"};
  options.uid = user->uid;
  options.gid = user->gid;
  RunResult result = run_command(std::move(options));
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(trimmed(result.stdout_text), std::to_string(user->uid));
}

class PostgresServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new PostgresServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static PostgresServer* server_;
};

PostgresServer* PostgresServerTest::server_ = nullptr;

TEST_F(PostgresServerTest, SuperuserRunsSqlOverTheSocket) {
  RunResult result = server_->psql_superuser("SELECT current_user, current_database();");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "postgres|app\n");
}

TEST_F(PostgresServerTest, ListensOnLoopbackTcpPort) {
  RunResult result = server_->psql_superuser(
      "SELECT current_setting('listen_addresses') || ' ' || current_setting('port');");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(trimmed(result.stdout_text), fmt::format("127.0.0.1 {}", server_->port()));
}

TEST_F(PostgresServerTest, ScramUserAuthenticatesWithScram) {
  RunResult result = server_->psql(server_->scram_role(), "SELECT current_user;");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "scram_user\n");
  RunResult stored = server_->psql_superuser(
      "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'scram_user';");
  EXPECT_EQ(stored.stdout_text, "SCRAM-SHA-256$\n");
}

TEST_F(PostgresServerTest, ScramUserIsRefusedWithAWrongPassword) {
  PostgresRole wrong{server_->scram_role().name, "not-the-password"};
  RunResult result = server_->psql(wrong, "SELECT 1;");
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.stderr_text.find("password authentication failed"), std::string::npos)
      << result.describe();
}

TEST_F(PostgresServerTest, ScramUserOwnsTheAppDatabase) {
  RunResult result = server_->psql(server_->scram_role(),
                                   "CREATE TABLE harness_owned (id int); "
                                   "SELECT pg_get_userbyid(datdba) FROM pg_database "
                                   "WHERE datname = 'app';");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "scram_user\n");
}

TEST_F(PostgresServerTest, Md5UserAuthenticatesWithMd5) {
  RunResult result = server_->psql(server_->md5_role(), "SELECT current_user;");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "md5_user\n");
  RunResult stored = server_->psql_superuser(
      "SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = 'md5_user';");
  EXPECT_EQ(stored.stdout_text, "md5\n");
  PostgresRole wrong{server_->md5_role().name, "not-the-password"};
  EXPECT_FALSE(server_->psql(wrong, "SELECT 1;").ok());
}

TEST_F(PostgresServerTest, TrustUserNeedsNoPassword) {
  PostgresRole no_password{server_->trust_role().name, ""};
  RunResult result = server_->psql(no_password, "SELECT current_user;");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "trust_user\n");
}

TEST_F(PostgresServerTest, PgbenchInitialisesTheAppDatabase) {
  const PostgresRole& role = server_->scram_role();
  RunResult init =
      run_command({pg_bin("pgbench").string(), "-i", "-s", "1", "-q", "-h", server_->host(), "-p",
                   std::to_string(server_->port()), "-U", role.name, "app"},
                  {{"PGPASSWORD", role.password}});
  ASSERT_TRUE(init.ok()) << init.describe();
  RunResult count = server_->psql(role, "SELECT count(*) FROM pgbench_accounts;");
  ASSERT_TRUE(count.ok()) << count.describe();
  EXPECT_EQ(count.stdout_text, "100000\n");
}

TEST_F(PostgresServerTest, StopsAndStartsAgainOnTheSamePort) {
  uint16_t port = server_->port();
  server_->stop();
  EXPECT_FALSE(server_->running());
  EXPECT_FALSE(server_->psql(server_->scram_role(), "SELECT 1;").ok());
  server_->start();
  EXPECT_EQ(server_->port(), port);
  RunResult result = server_->psql(server_->scram_role(), "SELECT 1;");
  EXPECT_TRUE(result.ok()) << result.describe();
}

TEST(PostgresServerOptions, LogsStatementsWhenAsked) {
  PostgresOptions options;
  options.log_statements = true;
  PostgresServer server(options);
  ASSERT_TRUE(server.psql(server.scram_role(), "SELECT 'harness-marker-42';").ok());
  EXPECT_NE(server.log_text().find("harness-marker-42"), std::string::npos) << server.log_text();
}

TEST(PostgresServerOptions, AppliesExtraConfiguration) {
  PostgresOptions options;
  options.extra_conf = {"max_connections = 17"};
  PostgresServer server(options);
  RunResult result = server.psql_superuser("SHOW max_connections;");
  EXPECT_EQ(result.stdout_text, "17\n") << result.describe();
}

TEST(PostgresServerOptions, ReportsTheServerLogWhenStartFails) {
  PostgresOptions options;
  options.extra_conf = {"no_such_setting_in_postgres = 1"};
  try {
    PostgresServer server(options);
    ADD_FAILURE() << "a server with a bad setting started";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("no_such_setting_in_postgres"), std::string::npos)
        << error.what();
  }
}

PostgresOptions postgres_tls_options(const TestCertificates& certs) {
  PostgresOptions options;
  options.ssl = true;
  options.ssl_cert_file = certs.cert_file();
  options.ssl_key_file = certs.key_file();
  return options;
}

TEST(PostgresServerTls, VerifiesTheServerCertificateAgainstTheTestCa) {
  TestCertificates certs;
  PostgresServer server(postgres_tls_options(certs));
  const PostgresRole& role = server.scram_role();
  std::string conninfo =
      fmt::format("host=localhost port={} user={} dbname=app sslmode=verify-full sslrootcert={}",
                  server.port(), role.name, certs.ca_file().string());
  RunResult result =
      run_command({pg_bin("psql").string(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                   conninfo, "-c", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();"},
                  {{"PGPASSWORD", role.password}});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "t\n");
}

TEST(PostgresServerTls, RefusesVerificationAgainstAnotherCa) {
  TestCertificates certs;
  TestCertificates other;
  PostgresServer server(postgres_tls_options(certs));
  const PostgresRole& role = server.scram_role();
  std::string conninfo =
      fmt::format("host=localhost port={} user={} dbname=app sslmode=verify-full sslrootcert={}",
                  server.port(), role.name, other.ca_file().string());
  RunResult result = run_command({pg_bin("psql").string(), "-X", "-d", conninfo, "-c", "SELECT 1;"},
                                 {{"PGPASSWORD", role.password}});
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.stderr_text.find("certificate verify failed"), std::string::npos)
      << result.describe();
}

}  // namespace
}  // namespace portcullis::testing
