// The SSH front end end to end: the real ssh client, through the gateway, to a real OpenSSH
// sshd whose command recorder shows what reached the host.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "contains.h"
#include "ssh_gateway.h"
#include "support/sshd_server.h"

namespace portcullis::testing {
namespace {

class SshProxyTest : public ::testing::Test {
 protected:
  SshdServer sshd_;
};

TEST_F(SshProxyTest, RunsACommandWithItsOutputAndExitStatus) {
  SshGateway gateway(sshd_);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  const std::string command = "sh -c 'echo out; echo err >&2; exit 3'";
  auto result = gateway.ssh(key, command);
  EXPECT_EQ(result.exit_code, 3) << result.describe();
  EXPECT_EQ(result.stdout_text, "out\n");
  EXPECT_NE(result.stderr_text.find("err\n"), std::string::npos) << result.stderr_text;
  // The host got the command line byte for byte.
  EXPECT_TRUE(contains(sshd_.received_commands(), command));

  const auto journal = gateway.journal("exit status 3");
  EXPECT_NE(journal.find("\"protocol\":\"ssh\""), std::string::npos) << journal;
  EXPECT_NE(journal.find("exit status 3"), std::string::npos) << journal;
  EXPECT_NE(journal.find("\"subject\":\"alice\""), std::string::npos) << journal;
  // Which certificate: its serial and key id, as `ssh-keygen -L` shows them.
  const auto listed = run_command({"ssh-keygen", "-L", "-f", key.string() + "-cert.pub"});
  ASSERT_EQ(listed.exit_code, 0) << listed.describe();
  const auto serial_at = listed.stdout_text.find("Serial: ");
  ASSERT_NE(serial_at, std::string::npos) << listed.stdout_text;
  const std::string serial = listed.stdout_text.substr(
      serial_at + 8, listed.stdout_text.find('\n', serial_at) - serial_at - 8);
  EXPECT_NE(journal.find("\"credential\":\"ssh_certificate " + serial + " alice\""),
            std::string::npos)
      << journal << listed.stdout_text;
}

TEST_F(SshProxyTest, StdinReachesTheCommand) {
  SshGateway gateway(sshd_);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  std::string input;
  for (int i = 0; i < 20000; ++i) input += "line " + std::to_string(i) + "\n";
  auto result = gateway.ssh(key, "wc -l", "web", input);
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_EQ(result.stdout_text, "20000\n");
}

TEST_F(SshProxyTest, LargeOutputArrivesWholeOnBothStreams) {
  SshGateway gateway(sshd_);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  // 8.5 MB on stdout and 1.7 MB on stderr, far beyond the windows and the gateway's queues.
  auto result = gateway.ssh(
      key, "yes 0123456789abcdef | head -n 500000; yes err-line-0123 | head -n 120000 >&2");
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text.substr(0, 200);
  EXPECT_EQ(result.stdout_text.size(), 500000u * 17);
  EXPECT_EQ(result.stdout_text.substr(result.stdout_text.size() - 17), "0123456789abcdef\n");
  EXPECT_EQ(result.stderr_text.size(), 120000u * 14);
}

TEST_F(SshProxyTest, OutputIsMaskedOnItsWayBack) {
  SshGateway gateway(sshd_);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  // Printed in two writes, the value split between them.
  auto result = gateway.ssh(key, "printf 'ssn 123-45-'; sleep 0.2; printf '6789 ok\\n'");
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_EQ(result.stdout_text.find("123-45-6789"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find(" ok\n"), std::string::npos) << result.stdout_text;
}

TEST_F(SshProxyTest, ARefusedCommandNeverReachesTheHost) {
  SshGatewayOptions options;
  options.guardrails_section =
      "guardrails:\n"
      "  - name: no-rm\n"
      "    when: { programs: [rm] }\n"
      "    action: deny\n"
      "    message: removing files is not allowed here\n";
  SshGateway gateway(sshd_, options);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  for (const std::string command :
       {"rm -rf /tmp/x", "sh -c 'r''m -rf /tmp/x'", "env FOO=1 \\rm -f /tmp/x",
        "find /tmp -name x -exec rm {} +"}) {
    auto result = gateway.ssh(key, command);
    EXPECT_EQ(result.exit_code, 126) << command << ": " << result.describe();
    EXPECT_NE(result.stderr_text.find(
                  "portcullis: blocked by rule \"no-rm\": removing files is not allowed here"),
              std::string::npos)
        << result.stderr_text;
    EXPECT_FALSE(contains(sshd_.received_commands(), command)) << command;
  }
  EXPECT_TRUE(sshd_.received_commands().empty());
  // Another command on the same gateway still runs.
  auto allowed = gateway.ssh(key, "echo fine");
  EXPECT_EQ(allowed.stdout_text, "fine\n") << allowed.describe();
}

TEST_F(SshProxyTest, AProgramsAllowListRefusesEverythingElse) {
  SshGatewayOptions options;
  options.access_section =
      "access:\n"
      "  - name: ops\n"
      "    who: { groups: [ops] }\n"
      "    connections: [web]\n"
      "    allow: [exec]\n"
      "    programs: [echo, \"uname -a\"]\n";
  SshGateway gateway(sshd_, options);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  EXPECT_EQ(gateway.ssh(key, "echo hi").stdout_text, "hi\n");
  for (const std::string command :
       {"uname -r", "echo hi; id", "echo $(id)", "echo aWQ= | base64 -d | sh", "$SHELL"}) {
    auto result = gateway.ssh(key, command);
    EXPECT_EQ(result.exit_code, 126) << command << ": " << result.describe();
    EXPECT_FALSE(contains(sshd_.received_commands(), command)) << command;
  }
}

TEST_F(SshProxyTest, AHostPresentingAnotherKeyIsRefused) {
  SshGatewayOptions options;
  // A key of the right type that the host does not have.
  options.host_key =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
  SshGateway gateway(sshd_, options);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  auto result = gateway.ssh(key, "echo hi");
  EXPECT_EQ(result.exit_code, 255) << result.describe();
  EXPECT_NE(result.stderr_text.find("pinned host_key"), std::string::npos) << result.stderr_text;
  EXPECT_TRUE(sshd_.received_commands().empty());
}

TEST_F(SshProxyTest, LoginNeedsACertificateFromTheGatewaysCa) {
  SshGateway gateway(sshd_);
  // A plain key (the sshd's own client key, never certified by the gateway).
  auto plain = gateway.ssh(sshd_.client_key_file(), "echo hi");
  EXPECT_EQ(plain.exit_code, 255) << plain.describe();
  EXPECT_NE(plain.stderr_text.find("Permission denied"), std::string::npos) << plain.stderr_text;

  // A certificate from another gateway's CA.
  SshGateway other(sshd_);
  const auto foreign = other.login(other.token_for("alice", "ops"), "alice");
  auto refused = gateway.ssh(foreign, "echo hi");
  EXPECT_EQ(refused.exit_code, 255) << refused.describe();

  // No rule grants group `dev` the connection: the caller is told so.
  const auto dev = gateway.login(gateway.token_for("bob", "dev"), "bob");
  auto denied = gateway.ssh(dev, "echo hi");
  EXPECT_EQ(denied.exit_code, 255) << denied.describe();
  EXPECT_NE(denied.stderr_text.find("access denied"), std::string::npos) << denied.stderr_text;
  EXPECT_TRUE(sshd_.received_commands().empty());
}

TEST_F(SshProxyTest, ACertificateEndsWithItsToken) {
  SshGateway gateway(sshd_);
  auto issued =
      gateway.cli({"token", "issue", "--subject", "alice", "--group", "ops", "--ttl", "3s"});
  ASSERT_TRUE(issued.ok()) << issued.describe();
  std::string token = issued.stdout_text;
  token.erase(token.find_last_not_of("\r\n") + 1);
  const auto key = gateway.login(token, "short");
  ASSERT_EQ(gateway.ssh(key, "echo in-time").stdout_text, "in-time\n");
  std::this_thread::sleep_for(std::chrono::seconds(4));
  auto late = gateway.ssh(key, "echo too-late");
  EXPECT_EQ(late.exit_code, 255) << late.describe();
  EXPECT_EQ(sshd_.received_commands(), std::vector<std::string>{"echo in-time"});
}

TEST_F(SshProxyTest, RevokingTheSubjectInvalidatesItsCertificates) {
  SshGatewayOptions options;
  options.extra_sections = "api:\n  admin_groups: [platform-admins]\n";
  SshGateway gateway(sshd_, options);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  ASSERT_EQ(gateway.ssh(key, "echo before").stdout_text, "before\n");
  auto revoked = gateway.cli({"revoke", "--subject", "alice", "--api",
                              "http://127.0.0.1:" + std::to_string(gateway.http_port()), "--token",
                              gateway.token_for("root", "platform-admins")});
  ASSERT_TRUE(revoked.ok()) << revoked.describe();
  auto after = gateway.ssh(key, "echo after");
  EXPECT_EQ(after.exit_code, 255) << after.describe();
  EXPECT_NE(after.stderr_text.find("revoked"), std::string::npos) << after.stderr_text;
}

TEST_F(SshProxyTest, AnApiKeyWorksAsThePassword) {
  SshGatewayOptions options;
  options.access_section =
      "access:\n"
      "  - name: bots\n"
      "    who: { groups: [deployers] }\n"
      "    connections: [web]\n"
      "    allow: [exec]\n";
  SshGateway gateway(sshd_, options);
  auto created = gateway.cli({"apikey", "create", "--name", "deploy-bot", "--group", "deployers"});
  ASSERT_TRUE(created.ok()) << created.describe();
  std::string key = created.stdout_text;
  key.erase(key.find_last_not_of("\r\n") + 1);
  auto result = gateway.ssh_with_password(key, "echo from-bot");
  EXPECT_EQ(result.exit_code, 0) << result.describe();
  EXPECT_EQ(result.stdout_text, "from-bot\n");
  const auto journal = gateway.journal("from-bot");
  EXPECT_NE(journal.find("\"subject\":\"deploy-bot\""), std::string::npos) << journal;
  // The key's name says which credential; its secret is nowhere.
  EXPECT_NE(journal.find("\"credential\":\"api_key deploy-bot\""), std::string::npos) << journal;
  EXPECT_EQ(journal.find(key), std::string::npos) << journal;
  const auto exported = gateway.cli({"audit", "export", "--format", "jsonl"});
  ASSERT_TRUE(exported.ok()) << exported.describe();
  EXPECT_NE(exported.stdout_text.find("\"credential\":\"api_key deploy-bot\""), std::string::npos);
  EXPECT_EQ(exported.stdout_text.find(key), std::string::npos);

  // A wrong key, and a revoked one, open nothing.
  auto wrong = gateway.ssh_with_password("pcs_not-a-key", "echo no");
  EXPECT_EQ(wrong.exit_code, 255) << wrong.describe();
  ASSERT_TRUE(gateway.cli({"apikey", "revoke", "deploy-bot"}).ok());
  auto revoked = gateway.ssh_with_password(key, "echo no");
  EXPECT_EQ(revoked.exit_code, 255) << revoked.describe();
  EXPECT_NE(revoked.stderr_text.find("revoked"), std::string::npos) << revoked.stderr_text;
  EXPECT_EQ(sshd_.received_commands(), std::vector<std::string>{"echo from-bot"});
}

// A client other than OpenSSH's (paramiko, as a hostile script would use it) sending requests
// in orders ssh never does: a second exec on a channel that already has one (before the first
// is decided) and a shell request after it.
TEST_F(SshProxyTest, ExtraRequestsOnAChannelRunNothing) {
  SshGateway gateway(sshd_);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  const std::string script = R"py(
import sys, paramiko
key = paramiko.Ed25519Key.from_private_key_file(sys.argv[1])
key.load_certificate(sys.argv[1] + "-cert.pub")
transport = paramiko.Transport(("127.0.0.1", int(sys.argv[2])))
transport.connect()
transport.auth_publickey("web", key)
channel = transport.open_session()
channel.exec_command("echo first")
for request in ("exec", "shell"):
    try:
        if request == "exec":
            channel.exec_command("touch second-exec.txt")
        else:
            channel.invoke_shell()
        print("accepted", request)
    except paramiko.SSHException:
        print("refused", request)
# paramiko closes a channel whose request failed: the connection goes on with another.
channel = transport.open_session()
channel.exec_command("echo after")
out = b""
while True:
    data = channel.recv(65536)
    if not data:
        break
    out += data
print("status", channel.recv_exit_status())
print("out", out.decode().strip())
transport.close()
)py";
  ChildOptions child;
  child.argv = {"/usr/bin/python3", "-c", script, key.string(), std::to_string(gateway.port())};
  auto result = run_command(std::move(child), std::chrono::seconds(60));
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_NE(result.stdout_text.find("refused exec"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("refused shell"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("status 0"), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("out after"), std::string::npos) << result.stdout_text;
  // The first command may or may not have started before its channel closed; the extra
  // requests never reached the host.
  for (const auto& command : sshd_.received_commands())
    EXPECT_TRUE(command == "echo first" || command == "echo after") << command;
  EXPECT_FALSE(std::filesystem::exists(sshd_.home_dir() / "second-exec.txt"));
}

TEST_F(SshProxyTest, AConnectionOverTheLimitIsRefusedAtOnce) {
  SshGatewayOptions options;
  options.extra_sections = "limits:\n  max_connections: 1\n";
  SshGateway gateway(sshd_, options);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  auto first = gateway.start_ssh(key, "echo holding; sleep 5");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (first.stdout_text().find("holding") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto second = gateway.ssh(key, "echo second");
  EXPECT_EQ(second.exit_code, 255) << second.describe();
  EXPECT_EQ(second.stdout_text, "");
  first.wait(std::chrono::seconds(20));
  EXPECT_EQ(sshd_.received_commands(), std::vector<std::string>{"echo holding; sleep 5"});
}

TEST_F(SshProxyTest, ForwardingAndSubsystemsAreRefused) {
  SshGateway gateway(sshd_);
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  // -W asks the gateway to open a TCP connection (direct-tcpip): refused.
  auto forward =
      gateway.ssh(key, "", "web", "", {"-W", "127.0.0.1:" + std::to_string(sshd_.port())});
  EXPECT_NE(forward.exit_code, 0) << forward.describe();
  auto sftp = gateway.ssh(key, "sftp", "web", "", {"-s"});
  EXPECT_NE(sftp.exit_code, 0) << sftp.describe();
  EXPECT_TRUE(sshd_.received_commands().empty());
}

}  // namespace
}  // namespace portcullis::testing
