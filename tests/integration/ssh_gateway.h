// SshGateway: the gateway binary with an SSH listener in front of a test sshd (SshdServer),
// its REST API on (for `portcullis ssh login`), and helpers to log in and run `ssh` through it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/sshd_server.h"
#include "support/temp_dir.h"

namespace portcullis::testing {

struct SshGatewayOptions {
  std::string access_section;      // replaces the default (below)
  std::string guardrails_section;  // a whole `guardrails:` section, or empty
  std::string masking_section;     // replaces the default (below)
  std::string host_key;            // the pinned host key; empty: the sshd's own
  std::string extra_sections;      // whole top-level sections appended
};

// The default access: group `ops` may run commands (class exec) on connection `web`, output
// masked with profile `pii`.
inline constexpr const char* kSshDefaultAccess =
    "access:\n"
    "  - name: ops\n"
    "    who: { groups: [ops] }\n"
    "    connections: [web]\n"
    "    allow: [exec]\n"
    "    masking: pii\n";

inline constexpr const char* kSshDefaultMasking =
    "masking:\n"
    "  profiles:\n"
    "    pii:\n"
    "      detectors: [email, us_ssn]\n";

class SshGateway {
 public:
  SshGateway(const SshdServer& sshd, SshGatewayOptions options = {});
  ~SshGateway();

  uint16_t port() const { return port_; }
  uint16_t http_port() const { return http_port_; }
  std::string api_url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  ChildProcess& process() { return *process_; }

  // The portcullis CLI with this gateway's configuration.
  RunResult cli(std::vector<std::string> args) const;
  std::string token_for(const std::string& subject, const std::string& group) const;
  // `portcullis ssh login` for a token: the key it wrote (its certificate beside it).
  std::filesystem::path login(const std::string& token, const std::string& name) const;

  // `ssh -p PORT CONNECTION@127.0.0.1 COMMAND` with `key` and its certificate; the gateway's
  // host key pinned.
  RunResult ssh(const std::filesystem::path& key, const std::string& command,
                const std::string& connection = "web", const std::string& stdin_data = {},
                const std::vector<std::string>& extra_options = {}) const;
  // `program` (sftp or scp) with `key` and its certificate, the gateway's host key pinned and
  // its port, then `arguments`, which name the gateway as destination() does.
  RunResult file_client(const std::filesystem::path& key, const std::string& program,
                        const std::vector<std::string>& arguments) const;
  // The same in the background (a held file operation).
  ChildProcess start_file_client(const std::filesystem::path& key, const std::string& program,
                                 const std::vector<std::string>& arguments) const;
  static std::string destination(const std::string& connection = "web") {
    return connection + "@127.0.0.1";
  }
  // `ssh` logging in with a password (an API key) instead of a certificate.
  RunResult ssh_with_password(const std::string& password, const std::string& command) const;
  // An interactive shell (`ssh -tt`, TERM=xterm), typed at: each step's keys, then a pause
  // (the time a person reads the screen). The result holds what the terminal showed.
  struct TypedKeys {
    std::string keys;
    double pause_seconds = 0.8;
  };
  RunResult shell(const std::filesystem::path& key, const std::vector<TypedKeys>& steps) const;
  // The same in the background (a held command, a session to kill).
  ChildProcess start_ssh(const std::filesystem::path& key, const std::string& command,
                         const std::vector<std::string>& extra_options = {}) const;
  // The journal's statements as JSON lines (`portcullis audit search --json`), once one holds
  // `awaited` (or after 15 s).
  std::string journal(const std::string& awaited = {}) const;

  void stop();
  void start();

  // The clients reach this ssh-agent (IdentityAgent), so that `-A` forwards it; without it
  // they use none. They still log in with their certificate only (IdentitiesOnly).
  void use_agent(const std::filesystem::path& socket) { identity_agent_ = socket.string(); }

 private:
  std::string render(const SshGatewayOptions& options) const;
  // The options every client is run with: no configuration of the machine's, `key` and its
  // certificate only, the gateway's host key pinned.
  std::vector<std::string> client_options(const std::filesystem::path& key) const;
  ChildOptions file_client_child(const std::filesystem::path& key, const std::string& program,
                                 const std::vector<std::string>& arguments) const;
  ChildOptions ssh_child(const std::filesystem::path& key, const std::string& command,
                         const std::string& connection, const std::string& stdin_data,
                         const std::vector<std::string>& extra_options) const;

  TempDir dir_{"portcullis-ssh-gateway"};
  uint16_t port_ = 0;
  uint16_t http_port_ = 0;
  const SshdServer& sshd_;
  std::filesystem::path config_file_;
  std::string host_key_line_;  // the gateway's, as it logged it
  mutable int typing_scripts_ = 0;
  std::string identity_agent_ = "none";
  std::optional<ChildProcess> process_;
};

}  // namespace portcullis::testing
