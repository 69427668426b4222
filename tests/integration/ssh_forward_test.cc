// Port forwarding (`ssh -W`, `-L`, `-R`) and agent forwarding (`ssh -A`) through the gateway, with
// the real ssh client, a real ssh-agent and a real OpenSSH sshd that allows both: what the
// gateway lets through reaches its destination, and what it refuses would have worked without
// it (the host does not refuse it for the gateway).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <thread>

#include "ssh_gateway.h"
#include "support/sshd_server.h"
#include "support/tcp_probe.h"
#include "support/temp_dir.h"

namespace portcullis::testing {
namespace {

SshdOptions forwarding_host() {
  SshdOptions options;
  options.allow_tcp_forwarding = true;
  options.allow_agent_forwarding = true;
  return options;
}

std::string access_allowing(const std::string& classes) {
  return "access:\n"
         "  - name: ops\n"
         "    who: { groups: [ops] }\n"
         "    connections: [web]\n"
         "    allow: [" +
         classes +
         "]\n"
         "    masking: pii\n";
}

// A gateway whose access rule allows `classes`, with `guardrails` (a whole section) if given.
SshGatewayOptions allowing(const std::string& classes, std::string guardrails = {}) {
  SshGatewayOptions options;
  options.access_section = access_allowing(classes);
  options.guardrails_section = std::move(guardrails);
  return options;
}

// A free TCP port on 127.0.0.1 for `ssh -L` to listen on.
uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

class SshForwardTest : public ::testing::Test {
 protected:
  SshdServer sshd_{forwarding_host()};
  // The host's own SSH port is the destination: a real server that speaks first.
  std::string sshd_destination() const { return "127.0.0.1:" + std::to_string(sshd_.port()); }
};

TEST_F(SshForwardTest, APortForwardNeedsTheForwardClass) {
  SshGateway gateway(sshd_);  // access: exec only
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  auto forward = gateway.ssh(key, "", "web", "", {"-W", sshd_destination()});
  EXPECT_NE(forward.exit_code, 0) << forward.describe();
  EXPECT_EQ(forward.stdout_text.find("SSH-2.0"), std::string::npos) << forward.describe();
  EXPECT_NE(forward.stderr_text.find("administratively prohibited"), std::string::npos)
      << forward.describe();
  const auto journal = gateway.journal("direct-tcpip " + sshd_destination());
  EXPECT_NE(journal.find("\"command\":\"direct-tcpip " + sshd_destination() + "\""),
            std::string::npos)
      << journal;
  EXPECT_NE(journal.find("\"verdict\":\"deny\""), std::string::npos) << journal;
  EXPECT_NE(journal.find("port forwarding (to " + sshd_destination() +
                         ") is not allowed for this access"),
            std::string::npos)
      << journal;
}

TEST_F(SshForwardTest, AnAllowedPortForwardCarriesBothWays) {
  SshGateway gateway(sshd_, allowing("exec, forward"));
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  // The gateway's own REST API as the destination: a request goes one way, its answer the
  // other, through the host.
  const std::string api = "127.0.0.1:" + std::to_string(gateway.http_port());
  auto forward = gateway.ssh(key, "", "web",
                             "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                             {"-W", api});
  EXPECT_EQ(forward.exit_code, 0) << forward.describe();
  EXPECT_EQ(forward.stdout_text.rfind("HTTP/1.1 200", 0), 0u) << forward.describe();
  EXPECT_NE(forward.stdout_text.find("\"status\""), std::string::npos) << forward.describe();

  const auto journal = gateway.journal("direct-tcpip " + api);
  EXPECT_NE(journal.find("\"command\":\"direct-tcpip " + api + "\""), std::string::npos) << journal;
  EXPECT_NE(journal.find("\"kinds\":[\"forward\"]"), std::string::npos) << journal;
  EXPECT_NE(journal.find("\"classes\":[\"forward\"]"), std::string::npos) << journal;
  EXPECT_EQ(journal.find("\"verdict\":\"deny\""), std::string::npos) << journal;
  // A forward is not a command: nothing reached the host's command runner.
  EXPECT_TRUE(sshd_.received_commands().empty());
}

TEST_F(SshForwardTest, ALocalForwardServesEveryConnection) {
  SshGateway gateway(sshd_, allowing("forward"));
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  const uint16_t local = free_port();
  // `ssh -N -L`: no command at all, only forwards (a grant without exec).
  auto client = gateway.start_ssh(key, "",
                                  {"-N", "-o", "ExitOnForwardFailure=yes", "-L",
                                   std::to_string(local) + ":" + sshd_destination()});
  // The first connection, as soon as ssh listens, gets the destination's banner: a server
  // that speaks first may send it with the channel's confirmation.
  std::optional<std::string> banner;
  for (int attempt = 0; attempt < 100 && !banner; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    banner = first_line_from(local);
  }
  EXPECT_EQ(banner.value_or("").rfind("SSH-2.0-OpenSSH", 0), 0u) << client.stderr_text();
  // Several connections, each decided and journaled on its own.
  EXPECT_EQ(first_line_from(local).value_or("").rfind("SSH-2.0-OpenSSH", 0), 0u);
  EXPECT_EQ(first_line_from(local).value_or("").rfind("SSH-2.0-OpenSSH", 0), 0u);
  client.terminate();
  const auto journal = gateway.journal("direct-tcpip " + sshd_destination());
  std::size_t events = 0;
  for (auto at = journal.find("\"command\":\"direct-tcpip"); at != std::string::npos;
       at = journal.find("\"command\":\"direct-tcpip", at + 1))
    ++events;
  EXPECT_GE(events, 3u) << journal;
}

TEST_F(SshForwardTest, GuardrailsSeeTheDestination) {
  SshGateway gateway(sshd_, allowing("exec, forward",
                                     "guardrails:\n"
                                     "  - name: no-ssh-hops\n"
                                     "    when: { paths: [\"*:" +
                                         std::to_string(sshd_.port()) +
                                         "\"] }\n"
                                         "    action: deny\n"
                                         "    message: no hops to other SSH servers\n"
                                         "  - name: hold-forwards\n"
                                         "    when: { paths: [\"localhost:*\"] }\n"
                                         "    action: review\n"
                                         "    reviewers: { groups: [leads] }\n"));
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  auto hop = gateway.ssh(key, "", "web", "", {"-W", sshd_destination()});
  EXPECT_NE(hop.exit_code, 0) << hop.describe();
  EXPECT_EQ(hop.stdout_text.find("SSH-2.0"), std::string::npos) << hop.describe();
  // A rule that would hold a forward refuses it: nothing can hold a channel's opening.
  auto held = gateway.ssh(key, "", "web", "", {"-W", "localhost:9"});
  EXPECT_NE(held.exit_code, 0) << held.describe();
  const auto journal = gateway.journal("hold-forwards");
  EXPECT_NE(journal.find("no-ssh-hops"), std::string::npos) << journal;
  EXPECT_NE(journal.find("no hops to other SSH servers"), std::string::npos) << journal;
  EXPECT_NE(journal.find("hold-forwards"), std::string::npos) << journal;
  EXPECT_EQ(journal.find("\"verdict\":\"allow\""), std::string::npos) << journal;
}

TEST_F(SshForwardTest, AnAllowListOfDestinationsHoldsAgainstOtherNames) {
  // The pattern docs/ssh.md gives: allow the one destination, refuse every other forward. A
  // name for the same address, or text that is no host at all, is not that destination.
  SshGateway gateway(sshd_, allowing("forward",
                                     "guardrails:\n"
                                     "  - name: only-the-host\n"
                                     "    when: { paths: [\"" +
                                         sshd_destination() +
                                         "\"] }\n"
                                         "    action: allow\n"
                                         "  - name: no-other-forwards\n"
                                         "    when: { classes: [forward] }\n"
                                         "    action: deny\n"));
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  auto allowed = gateway.ssh(key, "", "web", "", {"-W", sshd_destination()});
  EXPECT_EQ(allowed.stdout_text.rfind("SSH-2.0-OpenSSH", 0), 0u) << allowed.describe();
  const std::string port = std::to_string(sshd_.port());
  for (const std::string& other : {"localhost:" + port, "127.0.0.1.:" + port, "[::1]:" + port,
                                   "*:" + port, "127.0.0.*:" + port}) {
    auto refused = gateway.ssh(key, "", "web", "", {"-W", other});
    EXPECT_NE(refused.exit_code, 0) << other << ": " << refused.describe();
    EXPECT_EQ(refused.stdout_text.find("SSH-2.0"), std::string::npos) << other;
  }
  const auto journal = gateway.journal("no-other-forwards");
  EXPECT_NE(journal.find("\"command\":\"direct-tcpip localhost:" + port + "\""), std::string::npos)
      << journal;
}

TEST_F(SshForwardTest, ARemoteForwardPassesTheHostsConnectionsBack) {
  const uint16_t remote = free_port();
  const std::string listen = "localhost:" + std::to_string(remote);
  {
    // exec only: the client is told no, and the host never listens.
    SshGateway gateway(sshd_);
    const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
    auto refused =
        gateway.ssh(key, "", "web", "",
                    {"-N", "-o", "ExitOnForwardFailure=yes", "-R",
                     std::to_string(remote) + ":127.0.0.1:" + std::to_string(gateway.http_port())});
    EXPECT_NE(refused.exit_code, 0) << refused.describe();
    EXPECT_NE(refused.stderr_text.find("remote port forwarding failed"), std::string::npos)
        << refused.describe();
    EXPECT_FALSE(first_line_from(remote).has_value());
    const auto journal = gateway.journal("tcpip-forward " + listen);
    EXPECT_NE(journal.find("\"command\":\"tcpip-forward " + listen + "\""), std::string::npos)
        << journal;
    EXPECT_NE(journal.find("\"verdict\":\"deny\""), std::string::npos) << journal;
  }
  SshGateway gateway(sshd_, allowing("forward"));
  const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
  // The host listens on `remote`; each connection to it comes back to the client, which
  // connects it to the gateway's REST API.
  auto client = gateway.start_ssh(
      key, "",
      {"-N", "-o", "ExitOnForwardFailure=yes", "-R",
       std::to_string(remote) + ":127.0.0.1:" + std::to_string(gateway.http_port())});
  const std::string request = "GET /api/v1/health HTTP/1.0\r\n\r\n";
  std::optional<std::string> status;
  for (int attempt = 0; attempt < 100 && !status; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = first_line_from(remote, request);
  }
  EXPECT_EQ(status.value_or("").rfind("HTTP/1.0 200", 0), 0u) << client.stderr_text();
  EXPECT_EQ(first_line_from(remote, request).value_or("").rfind("HTTP/1.0 200", 0), 0u);
  client.terminate();
  const auto journal = gateway.journal("tcpip-forward " + listen);
  EXPECT_NE(journal.find("\"command\":\"tcpip-forward " + listen + "\""), std::string::npos)
      << journal;
  EXPECT_EQ(journal.find("\"verdict\":\"deny\""), std::string::npos) << journal;
}

// A real ssh-agent holding one key, for `ssh -A`.
class Agent {
 public:
  Agent() {
    ChildOptions agent;
    agent.argv = {"ssh-agent", "-D", "-a", socket_.string()};
    process_.emplace(std::move(agent));
    for (int i = 0; i < 100 && !std::filesystem::exists(socket_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto key = dir_.path() / "agent_key";
    run_command(
        {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "agent-key", "-f", key.string()});
    const auto added = run_command({"ssh-add", key.string()}, {{"SSH_AUTH_SOCK", socket_}});
    if (!added.ok()) throw std::runtime_error("ssh-add failed: " + added.describe());
    const auto listed = run_command({"ssh-keygen", "-l", "-f", key.string() + ".pub"});
    // "256 SHA256:… agent-key (ED25519)": the fingerprint is the second word.
    const auto& line = listed.stdout_text;
    const auto from = line.find(' ') + 1;
    fingerprint_ = line.substr(from, line.find(' ', from) - from);
  }
  const std::filesystem::path& socket() const { return socket_; }
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  TempDir dir_{"portcullis-agent"};
  std::filesystem::path socket_ = dir_.path() / "agent.sock";
  std::optional<ChildProcess> process_;
  std::string fingerprint_;
};

TEST_F(SshForwardTest, AgentForwardingNeedsTheAgentClass) {
  Agent agent;
  ASSERT_EQ(agent.fingerprint().rfind("SHA256:", 0), 0u) << agent.fingerprint();
  const std::vector<std::string> forward_agent{"-A"};
  {
    // exec and port forwarding, but not the agent.
    SshGateway gateway(sshd_, allowing("exec, forward"));
    gateway.use_agent(agent.socket());
    const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
    auto listed = gateway.ssh(key, "ssh-add -l", "web", "", forward_agent);
    // The command ran, without an agent (ssh-add: 2, no agent to talk to).
    EXPECT_EQ(listed.exit_code, 2) << listed.describe();
    EXPECT_EQ(listed.stdout_text.find(agent.fingerprint()), std::string::npos);
    EXPECT_NE(listed.stderr_text.find("agent forwarding is not allowed for this access"),
              std::string::npos)
        << listed.describe();
    const auto journal = gateway.journal("auth-agent-req");
    EXPECT_NE(journal.find("\"kinds\":[\"agent\"]"), std::string::npos) << journal;
    EXPECT_NE(journal.find("\"verdict\":\"deny\""), std::string::npos) << journal;
  }
  {
    SshGateway gateway(sshd_, allowing("exec, agent"));
    gateway.use_agent(agent.socket());
    const auto key = gateway.login(gateway.token_for("alice", "ops"), "alice");
    auto listed = gateway.ssh(key, "ssh-add -l", "web", "", forward_agent);
    EXPECT_EQ(listed.exit_code, 0) << listed.describe();
    EXPECT_NE(listed.stdout_text.find(agent.fingerprint()), std::string::npos) << listed.describe();
    // Without -A the host gets no agent, even where the grant allows one.
    auto without = gateway.ssh(key, "ssh-add -l", "web", "", {});
    EXPECT_EQ(without.exit_code, 2) << without.describe();
    const auto journal = gateway.journal("auth-agent-req");
    EXPECT_NE(journal.find("\"command\":\"auth-agent-req\""), std::string::npos) << journal;
    EXPECT_EQ(journal.find("\"verdict\":\"deny\""), std::string::npos) << journal;
  }
}

}  // namespace
}  // namespace portcullis::testing
