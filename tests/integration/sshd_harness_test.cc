// Checks that the test sshd does what the SSH front end's tests rely on, with the real ssh, scp
// and sftp clients and no gateway: commands run with their output and exit status, the recorder
// sees each request byte for byte, only authorised keys log in, files go up and down, and the
// host key a client sees is the one the harness pins.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "contains.h"
#include "support/child_process.h"
#include "support/sshd_server.h"
#include "support/temp_dir.h"

namespace portcullis::testing {
namespace {

void write_binary(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Bytes a text-mode transfer would mangle: NUL, CR LF, high bytes, and more than one buffer.
std::string binary_content() {
  std::string content = "line one\r\nline two\n";
  for (int i = 0; i < 70000; ++i) content += static_cast<char>(i % 256);
  return content;
}

// The harness's client options with another identity instead of the harness's key.
std::vector<std::string> options_with_identity(const SshdServer& server,
                                               const std::filesystem::path& key) {
  std::vector<std::string> options = server.client_options();
  for (auto& option : options) {
    if (option.starts_with("IdentityFile=")) option = "IdentityFile=" + key.string();
  }
  return options;
}

RunResult ssh_with(const std::vector<std::string>& options, const SshdServer& server,
                   std::string_view command) {
  ChildOptions child;
  child.argv = {"ssh"};
  child.argv.insert(child.argv.end(), options.begin(), options.end());
  child.argv.insert(child.argv.end(), {"--", server.host(), std::string(command)});
  child.unset_env = {"SSH_AUTH_SOCK"};
  return run_command(std::move(child));
}

std::filesystem::path make_key(const TempDir& dir, std::string_view name) {
  std::filesystem::path key = dir / name;
  RunResult made =
      run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", key.string()});
  EXPECT_TRUE(made.ok()) << made.describe();
  return key;
}

class SshdServerTest : public ::testing::Test {
 protected:
  SshdServer server_;
};

TEST_F(SshdServerTest, ExecReturnsStdoutStderrAndExitStatus) {
  const std::string command = "sh -c 'echo out; echo err >&2; exit 3'";
  RunResult result = server_.ssh(command);
  EXPECT_EQ(result.exit_code, 3) << result.describe();
  EXPECT_EQ(result.stdout_text, "out\n");
  EXPECT_EQ(result.stderr_text, "err\n");
  EXPECT_EQ(server_.received_commands(), std::vector<std::string>{command});
}

TEST_F(SshdServerTest, RunsAsTheLoginUserInItsOwnHome) {
  RunResult result = server_.ssh("id -un; pwd; echo \"$HOME\"");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, server_.user() + "\n" + server_.home_dir().string() + "\n" +
                                    server_.home_dir().string() + "\n");
}

TEST_F(SshdServerTest, RecordsCommandsByteForByte) {
  const std::vector<std::string> commands = {
      "printf '%s|' \"double \\\"quoted\\\"\" 'single' \"it's\"\necho second line",
      "echo trailing newline\n",
      "  echo  spaced\t;  true  ",
      "echo $((6 * 7)) `echo back` \\$HOME",
  };
  for (const auto& command : commands) {
    RunResult result = server_.ssh(command);
    EXPECT_TRUE(result.ok()) << result.describe();
  }
  EXPECT_EQ(server_.received_commands(), commands);
  EXPECT_EQ(server_.ssh(commands[0]).stdout_text, "double \"quoted\"|single|it's|second line\n");
  EXPECT_EQ(server_.ssh(commands[3]).stdout_text, "42 back $HOME\n");
}

TEST_F(SshdServerTest, RecordsAnInteractiveShell) {
  RunResult result = server_.run_client("ssh", {"-T", "--", server_.host()},
                                        "echo from-shell\necho \"$0\"\nexit 4\n");
  EXPECT_EQ(result.exit_code, 4) << result.describe();
  EXPECT_EQ(result.stdout_text, "from-shell\n/bin/sh\n");
  EXPECT_EQ(server_.received_commands(),
            std::vector<std::string>{std::string(SshdServer::kShellMarker)});
  std::vector<SshRequest> requests = server_.received_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].kind, SshRequest::Kind::shell);
}

TEST_F(SshdServerTest, TellsAnExecOfAMarkerFromTheMarker) {
  const std::string command = "echo '<shell>'";
  // "<shell>" is a syntax error for the shell; only its record matters here.
  server_.ssh(SshdServer::kShellMarker);
  ASSERT_TRUE(server_.ssh(command).ok());
  std::vector<SshRequest> requests = server_.received_requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].kind, SshRequest::Kind::exec);
  EXPECT_EQ(requests[0].text, SshdServer::kShellMarker);
  EXPECT_EQ(requests[1].kind, SshRequest::Kind::exec);
  EXPECT_EQ(requests[1].text, command);
}

TEST_F(SshdServerTest, RefusesAKeyThatIsNotAuthorised) {
  TempDir dir("portcullis-sshd-client-");
  const std::filesystem::path other_key = make_key(dir, "other_ed25519");
  const std::vector<std::string> options = options_with_identity(server_, other_key);
  RunResult refused = ssh_with(options, server_, "echo should-not-run");
  EXPECT_EQ(refused.exit_code, 255) << refused.describe();
  EXPECT_TRUE(contains(refused.stderr_text, "Permission denied (publickey)")) << refused.describe();
  EXPECT_EQ(refused.stdout_text, "");
  EXPECT_TRUE(server_.received_commands().empty());

  server_.authorize_key(read_text_file(other_key.string() + ".pub"));
  RunResult accepted = ssh_with(options, server_, "echo now-authorised");
  ASSERT_TRUE(accepted.ok()) << accepted.describe();
  EXPECT_EQ(accepted.stdout_text, "now-authorised\n");
  EXPECT_EQ(server_.received_commands(), std::vector<std::string>{"echo now-authorised"});
}

TEST_F(SshdServerTest, PinnedHostKeyIsTheOneTheServerPresents) {
  EXPECT_TRUE(server_.host_public_key().starts_with("ssh-ed25519 AAAA"))
      << server_.host_public_key();
  EXPECT_EQ(std::count(server_.host_public_key().begin(), server_.host_public_key().end(), ' '), 1);
  EXPECT_EQ(read_text_file(server_.known_hosts_file()), server_.known_hosts_line() + "\n");

  RunResult scanned = run_command(
      {"ssh-keyscan", "-t", "ed25519", "-p", std::to_string(server_.port()), server_.host()});
  ASSERT_TRUE(scanned.ok()) << scanned.describe();
  EXPECT_EQ(scanned.stdout_text, server_.known_hosts_line() + "\n");

  // StrictHostKeyChecking=yes with the harness's file: the presented key matches it.
  RunResult pinned = server_.ssh("true");
  EXPECT_TRUE(pinned.ok()) << pinned.describe();
}

TEST_F(SshdServerTest, ClientRefusesTheServerUnderAnotherPinnedKey) {
  SshdServer other;
  TempDir dir("portcullis-sshd-client-");
  const std::filesystem::path wrong_known_hosts = dir / "known_hosts";
  write_binary(wrong_known_hosts, fmt::format("[{}]:{} {}\n", server_.host(), server_.port(),
                                              other.host_public_key()));
  std::vector<std::string> options = server_.client_options();
  for (auto& option : options) {
    if (option.starts_with("UserKnownHostsFile=")) {
      option = "UserKnownHostsFile=" + wrong_known_hosts.string();
    }
  }
  RunResult refused = ssh_with(options, server_, "echo should-not-run");
  EXPECT_EQ(refused.exit_code, 255) << refused.describe();
  EXPECT_TRUE(contains(refused.stderr_text, "Host key verification failed")) << refused.describe();
  EXPECT_TRUE(server_.received_commands().empty());
}

TEST_F(SshdServerTest, ScpCopiesUpAndDownOverSftp) {
  TempDir dir("portcullis-sshd-client-");
  const std::string content = binary_content();
  write_binary(dir / "local.bin", content);
  RunResult up =
      server_.run_client("scp", {(dir / "local.bin").string(), server_.host() + ":uploaded.bin"});
  ASSERT_TRUE(up.ok()) << up.describe();
  EXPECT_EQ(read_text_file(server_.home_dir() / "uploaded.bin"), content);

  RunResult down = server_.run_client(
      "scp", {server_.host() + ":uploaded.bin", (dir / "downloaded.bin").string()});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_EQ(read_text_file(dir / "downloaded.bin"), content);
  // OpenSSH 9's scp speaks SFTP: both transfers went through the recorder as the subsystem.
  EXPECT_EQ(server_.received_commands(),
            (std::vector<std::string>{std::string(SshdServer::kSftpMarker),
                                      std::string(SshdServer::kSftpMarker)}));
}

TEST_F(SshdServerTest, LegacyScpRunsScpThroughTheRecorder) {
  TempDir dir("portcullis-sshd-client-");
  const std::string content = binary_content();
  write_binary(dir / "local.bin", content);
  RunResult up = server_.run_client(
      "scp", {"-O", (dir / "local.bin").string(), server_.host() + ":legacy.bin"});
  ASSERT_TRUE(up.ok()) << up.describe();
  EXPECT_EQ(read_text_file(server_.home_dir() / "legacy.bin"), content);
  RunResult down = server_.run_client(
      "scp", {"-O", server_.host() + ":legacy.bin", (dir / "legacy-down.bin").string()});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_EQ(read_text_file(dir / "legacy-down.bin"), content);
  EXPECT_EQ(server_.received_commands(),
            (std::vector<std::string>{"scp -t legacy.bin", "scp -f legacy.bin"}));
}

TEST_F(SshdServerTest, SftpPutsAndGetsWithABatchFile) {
  TempDir dir("portcullis-sshd-client-");
  const std::string content = binary_content();
  write_binary(dir / "put.bin", content);
  write_binary(dir / "batch", "put " + (dir / "put.bin").string() + " sftp.bin\n" +
                                  "get sftp.bin " + (dir / "got.bin").string() + "\n" + "ls -1\n");
  RunResult result = server_.run_client("sftp", {"-b", (dir / "batch").string(), server_.host()});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(read_text_file(server_.home_dir() / "sftp.bin"), content);
  EXPECT_EQ(read_text_file(dir / "got.bin"), content);
  EXPECT_TRUE(contains(result.stdout_text, "sftp.bin")) << result.stdout_text;
  EXPECT_EQ(server_.received_commands(),
            std::vector<std::string>{std::string(SshdServer::kSftpMarker)});
  std::vector<SshRequest> requests = server_.received_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].kind, SshRequest::Kind::subsystem);
  EXPECT_EQ(requests[0].text, "sftp");
}

TEST_F(SshdServerTest, KeepsRecordsOfConcurrentSessionsWhole) {
  // Long enough that the shell's printf writes each record in several pieces, which only the
  // recorder's lock keeps from interleaving.
  const std::string padding(100000, 'x');
  std::vector<std::string> commands;
  for (int i = 0; i < 6; ++i) commands.push_back("true " + std::to_string(i) + " " + padding);
  std::vector<RunResult> results(commands.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = server_.ssh(commands[i]); });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) EXPECT_TRUE(result.ok()) << result.describe();
  std::vector<std::string> received = server_.received_commands();
  std::sort(received.begin(), received.end());
  EXPECT_EQ(received, commands);
}

TEST_F(SshdServerTest, StopsAndStartsAgainOnTheSamePort) {
  const uint16_t port = server_.port();
  server_.stop();
  EXPECT_FALSE(server_.running());
  EXPECT_EQ(server_.ssh("true").exit_code, 255);
  server_.start();
  EXPECT_EQ(server_.port(), port);
  RunResult result = server_.ssh("echo back");
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "back\n");
}

TEST(SshdServerOptions, AppliesExtraConfiguration) {
  SshdOptions options;
  options.extra_config = {"MaxAuthTries 2"};
  SshdServer server(options);
  RunResult result = run_command({"/usr/sbin/sshd", "-T", "-f", server.config_file().string()});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_TRUE(contains(result.stdout_text, "\nmaxauthtries 2\n")) << result.stdout_text;
  EXPECT_TRUE(contains(result.stdout_text, "\nallowtcpforwarding no\n"));
  EXPECT_TRUE(contains(result.stdout_text, "\nx11forwarding no\n"));
  EXPECT_TRUE(contains(result.stdout_text, "\nallowagentforwarding no\n"));
}

TEST(SshdServerOptions, ReportsTheLogWhenStartFails) {
  SshdOptions options;
  options.extra_config = {"NoSuchSshdKeyword yes"};
  try {
    SshdServer server(options);
    ADD_FAILURE() << "an sshd with a bad keyword started";
  } catch (const std::runtime_error& error) {
    EXPECT_TRUE(contains(error.what(), "NoSuchSshdKeyword")) << error.what();
  }
}

TEST(SshdServerOptions, TwoServersRunAtOnceWithTheirOwnKeys) {
  SshdServer first;
  SshdServer second;
  EXPECT_NE(first.port(), second.port());
  EXPECT_NE(first.host_public_key(), second.host_public_key());
  EXPECT_TRUE(first.ssh("true").ok());
  EXPECT_TRUE(second.ssh("true").ok());
  RunResult crossed =
      ssh_with(options_with_identity(second, first.client_key_file()), second, "true");
  EXPECT_EQ(crossed.exit_code, 255) << crossed.describe();
  EXPECT_EQ(second.received_commands(), std::vector<std::string>{"true"});
}

TEST(SshdServerOptions, StopsAndRemovesItsDirectoryWhenDestroyed) {
  std::filesystem::path dir;
  pid_t pid = -1;
  {
    SshdServer server;
    dir = server.dir();
    pid = server.pid();
    ASSERT_TRUE(std::filesystem::exists(server.client_key_file()));
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_NE(::kill(pid, 0), 0) << "sshd " << pid << " still runs";
}

}  // namespace
}  // namespace portcullis::testing
