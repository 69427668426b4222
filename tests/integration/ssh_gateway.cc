// Starting the gateway binary with an SSH listener in front of a test sshd.
#include "ssh_gateway.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "gateway_fixture.h"
#include "support/free_port.h"

namespace portcullis::testing {

SshGateway::SshGateway(const SshdServer& sshd, SshGatewayOptions options) : sshd_(sshd) {
  port_ = free_tcp_port();
  do http_port_ = free_tcp_port();
  while (http_port_ == port_);
  config_file_ = dir_.path() / "portcullis.yaml";
  std::ofstream(config_file_) << render(options);
  start();
}

SshGateway::~SshGateway() {
  stop();
}

void SshGateway::start() {
  ChildOptions child;
  child.argv = {
      portcullis_binary().string(), "--config", config_file_.string(), "serve", "--threads", "2"};
  process_.emplace(std::move(child));
  if (!process_->wait_for_output("protocol=ssh", std::chrono::seconds(30))) {
    ADD_FAILURE() << "gateway did not start:\n" << process_->stderr_text();
    throw std::runtime_error("gateway did not start");
  }
  const std::string log = process_->stderr_text();
  const std::string marker = "event=ssh_host_key key=\"";
  const auto at = log.find(marker);
  if (at == std::string::npos) {
    ADD_FAILURE() << "no host key in the gateway's log:\n" << log;
    return;
  }
  const auto begin = at + marker.size();
  host_key_line_ = log.substr(begin, log.find('"', begin) - begin);
}

void SshGateway::stop() {
  if (process_) {
    process_->terminate();
    process_.reset();
  }
}

std::string SshGateway::render(const SshGatewayOptions& options) const {
  return fmt::format(
      "listen:\n"
      "  ssh: 127.0.0.1:{port}\n"
      "  http: 127.0.0.1:{http}\n"
      "state:\n"
      "  url: sqlite://state/portcullis.db\n"
      "identity:\n"
      "  signing_key_file: state/signing.key\n"
      "  ssh:\n"
      "    host_key_file: state/ssh_host_ed25519\n"
      "    ca_key_file: state/ssh_user_ca\n"
      "connections:\n"
      "  - name: web\n"
      "    kind: ssh\n"
      "    address: 127.0.0.1:{target}\n"
      "    host_key: \"{host_key}\"\n"
      "    credentials:\n"
      "      default: {{ user: {user}, key_file: {key} }}\n"
      "{access}"
      "{guardrails}"
      "{masking}"
      "audit:\n"
      "  segment_size: 256KiB\n"
      "{extra}",
      fmt::arg("port", port_), fmt::arg("http", http_port_), fmt::arg("target", sshd_.port()),
      fmt::arg("host_key", options.host_key.empty() ? sshd_.host_public_key() : options.host_key),
      fmt::arg("user", sshd_.user()), fmt::arg("key", sshd_.client_key_file().string()),
      fmt::arg("access",
               options.access_section.empty() ? kSshDefaultAccess : options.access_section),
      fmt::arg("guardrails", options.guardrails_section),
      fmt::arg("masking",
               options.masking_section.empty() ? kSshDefaultMasking : options.masking_section),
      fmt::arg("extra", options.extra_sections));
}

RunResult SshGateway::cli(std::vector<std::string> args) const {
  return portcullis_cli(config_file_, std::move(args));
}

std::string SshGateway::token_for(const std::string& subject, const std::string& group) const {
  return gateway_token(config_file_, subject, group);
}

std::filesystem::path SshGateway::login(const std::string& token, const std::string& name) const {
  const auto out = dir_.path() / ("keys-" + name);
  ChildOptions child;
  child.argv = {portcullis_binary().string(),
                "ssh",
                "login",
                "--api",
                fmt::format("http://127.0.0.1:{}", http_port_),
                "--out",
                out.string()};
  child.env = {{"PORTCULLIS_TOKEN", token}};
  auto result = run_command(std::move(child), std::chrono::seconds(60));
  EXPECT_TRUE(result.ok()) << result.describe();
  return out / "id_ed25519";
}

std::vector<std::string> SshGateway::client_options(const std::filesystem::path& key) const {
  // The gateway's host key as a client pins it: the line the gateway logs when it starts.
  const auto known_hosts = dir_.path() / "known_hosts";
  std::ofstream(known_hosts) << fmt::format("[127.0.0.1]:{} {}\n", port_, host_key_line_);
  return {"-F", "/dev/null",
          "-o", "BatchMode=yes",
          "-o", "StrictHostKeyChecking=yes",
          "-o", "UserKnownHostsFile=" + known_hosts.string(),
          "-o", "IdentitiesOnly=yes",
          "-o", "IdentityAgent=" + identity_agent_,
          "-i", key.string(),
          "-o", "CertificateFile=" + key.string() + "-cert.pub",
          "-o", "ConnectTimeout=10"};
}

ChildOptions SshGateway::ssh_child(const std::filesystem::path& key, const std::string& command,
                                   const std::string& connection, const std::string& stdin_data,
                                   const std::vector<std::string>& extra_options) const {
  ChildOptions child;
  child.argv = {"ssh"};
  const auto options = client_options(key);
  child.argv.insert(child.argv.end(), options.begin(), options.end());
  child.argv.insert(child.argv.end(), {"-p", std::to_string(port_)});
  child.argv.insert(child.argv.end(), extra_options.begin(), extra_options.end());
  child.argv.push_back(connection + "@127.0.0.1");
  child.argv.push_back(command);
  child.stdin_data = stdin_data;
  return child;
}

ChildOptions SshGateway::file_client_child(const std::filesystem::path& key,
                                           const std::string& program,
                                           const std::vector<std::string>& arguments) const {
  ChildOptions child;
  child.argv = {program};
  const auto options = client_options(key);
  child.argv.insert(child.argv.end(), options.begin(), options.end());
  child.argv.insert(child.argv.end(), {"-P", std::to_string(port_)});
  child.argv.insert(child.argv.end(), arguments.begin(), arguments.end());
  return child;
}

RunResult SshGateway::file_client(const std::filesystem::path& key, const std::string& program,
                                  const std::vector<std::string>& arguments) const {
  return run_command(file_client_child(key, program, arguments), std::chrono::seconds(60));
}

ChildProcess SshGateway::start_file_client(const std::filesystem::path& key,
                                           const std::string& program,
                                           const std::vector<std::string>& arguments) const {
  return ChildProcess(file_client_child(key, program, arguments));
}

RunResult SshGateway::ssh(const std::filesystem::path& key, const std::string& command,
                          const std::string& connection, const std::string& stdin_data,
                          const std::vector<std::string>& extra_options) const {
  return run_command(ssh_child(key, command, connection, stdin_data, extra_options),
                     std::chrono::seconds(60));
}

RunResult SshGateway::ssh_with_password(const std::string& password,
                                        const std::string& command) const {
  // OpenSSH reads a password only from a terminal or SSH_ASKPASS: a script that prints it.
  const auto askpass = dir_.path() / "askpass.sh";
  const auto secret = dir_.path() / "askpass.secret";
  std::ofstream(secret) << password << "\n";
  std::ofstream(askpass) << "#!/bin/sh\ncat '" << secret.string() << "'\n";
  std::filesystem::permissions(askpass, std::filesystem::perms::owner_all);
  const auto known_hosts = dir_.path() / "known_hosts";
  std::ofstream(known_hosts) << fmt::format("[127.0.0.1]:{} {}\n", port_, host_key_line_);
  ChildOptions child;
  child.argv = {"ssh",
                "-F",
                "/dev/null",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "UserKnownHostsFile=" + known_hosts.string(),
                "-o",
                "PreferredAuthentications=password",
                "-o",
                "PubkeyAuthentication=no",
                "-o",
                "NumberOfPasswordPrompts=1",
                "-o",
                "ConnectTimeout=10",
                "-p",
                std::to_string(port_),
                "web@127.0.0.1",
                command};
  child.env = {
      {"SSH_ASKPASS", askpass.string()}, {"SSH_ASKPASS_REQUIRE", "force"}, {"DISPLAY", ":0"}};
  return run_command(std::move(child), std::chrono::seconds(60));
}

namespace {

// `text` quoted for sh: the bytes as they are, control characters included.
std::string sh_quoted(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted.push_back(c);
  }
  quoted.push_back('\'');
  return quoted;
}

}  // namespace

RunResult SshGateway::shell(const std::filesystem::path& key,
                            const std::vector<TypedKeys>& steps) const {
  // A script types the keys into ssh's stdin with pauses between them; ssh forwards them as a
  // terminal would (-tt: a terminal on the host though stdin is a pipe).
  std::string typing;
  for (const auto& step : steps)
    typing += fmt::format("printf '%s' {}; sleep {}\n", sh_quoted(step.keys), step.pause_seconds);
  const auto script = dir_.path() / fmt::format("typing-{}.sh", typing_scripts_++);
  std::ofstream(script) << typing;
  ChildOptions ssh = ssh_child(key, "", "web", {}, {"-tt"});
  ssh.argv.pop_back();  // no command: a shell
  std::string pipeline = fmt::format("sh {} | exec", sh_quoted(script.string()));
  for (const auto& arg : ssh.argv) pipeline += fmt::format(" {}", sh_quoted(arg));
  ChildOptions child;
  child.argv = {"sh", "-c", pipeline};
  child.env = {{"TERM", "xterm"}};
  return run_command(std::move(child), std::chrono::seconds(60));
}

ChildProcess SshGateway::start_ssh(const std::filesystem::path& key, const std::string& command,
                                   const std::vector<std::string>& extra_options) const {
  return ChildProcess(ssh_child(key, command, "web", {}, extra_options));
}

std::string SshGateway::journal(const std::string& awaited) const {
  return journal_statements(config_file_, awaited);
}

}  // namespace portcullis::testing
