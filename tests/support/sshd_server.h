// A real OpenSSH sshd per test (or per suite) as the target host of the SSH front end: its own
// configuration, host key and client key in a temporary directory, a free port on 127.0.0.1,
// and a recorder that notes every request that reached the host before running it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.h"
#include "server_user.h"
#include "temp_dir.h"

namespace portcullis::testing {

struct SshdOptions {
  // Forwarding is off unless a test asks for it, so that a gateway that forgets to refuse a
  // forwarding request still finds the host refusing it.
  bool allow_tcp_forwarding = false;
  bool allow_agent_forwarding = false;
  bool x11_forwarding = false;
  // The sftp subsystem (OpenSSH's sftp-server); off, the host refuses it as a host without it
  // configured does.
  bool sftp_subsystem = true;
  // What the sftp subsystem runs instead of OpenSSH's sftp-server (a host whose sftp does not
  // speak SFTP, e.g. "/bin/cat"); empty: sftp-server.
  std::string sftp_command;
  // More sshd_config lines, appended after the harness's own, e.g. "MaxSessions 2". sshd takes
  // the first value of most keywords, so these cannot override the harness's.
  std::vector<std::string> extra_config;
};

// What a client asked the host for, as the recorder saw it.
struct SshRequest {
  enum class Kind { exec, shell, subsystem };
  Kind kind = Kind::exec;
  // exec: the command byte for byte; subsystem: its name ("sftp"); shell: empty.
  std::string text;
};

class SshdServer {
 public:
  // Makes the keys and the configuration, starts sshd and waits until it listens. Throws
  // std::runtime_error with the sshd log on failure, which fails the test that constructed it.
  explicit SshdServer(SshdOptions options = {});
  // Stops sshd and removes its directory (kept with PORTCULLIS_KEEP_TEST_DIRS=1).
  ~SshdServer();

  SshdServer(const SshdServer&) = delete;
  SshdServer& operator=(const SshdServer&) = delete;

  uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  // The account to log in as (see ssh_login_user()).
  const std::string& user() const { return user_.name; }
  // The session's working directory and $HOME: a directory of this server's own, owned by the
  // login user, where relative scp and sftp paths land. The account's home is shared by every
  // server and is not used.
  const std::filesystem::path& home_dir() const { return home_dir_; }

  // An ed25519 key without a passphrase, authorised for user(): what the gateway logs in with.
  const std::filesystem::path& client_key_file() const { return client_key_file_; }
  const std::filesystem::path& client_public_key_file() const { return client_public_key_file_; }
  // The host key as "ssh-ed25519 BASE64", to pin.
  const std::string& host_public_key() const { return host_public_key_; }
  // "[127.0.0.1]:PORT ssh-ed25519 BASE64", and a known_hosts file holding only that line.
  std::string known_hosts_line() const;
  const std::filesystem::path& known_hosts_file() const { return known_hosts_file_; }
  // Authorises another public key ("ssh-ed25519 BASE64 [comment]", a line of a .pub file) for
  // user(), through the recorder like the harness's own key; sshd reads the file at each login.
  void authorize_key(std::string_view public_key_line);

  // Every request that reached the host, in order: exec commands byte for byte, and
  // kShellMarker for an interactive shell, kSftpMarker for the sftp subsystem. A test asserts
  // with it that a refused command never got there.
  std::vector<std::string> received_commands() const;
  // The same with the kind of each request, for a test that must tell an exec of a command
  // that reads like a marker from the marker.
  std::vector<SshRequest> received_requests() const;
  static constexpr std::string_view kShellMarker = "<shell>";
  static constexpr std::string_view kSftpMarker = "<subsystem sftp>";

  // Options that make ssh, scp and sftp use this server and nothing of the machine's or the
  // user's configuration: -F /dev/null, BatchMode, this known_hosts file with strict checking,
  // the client key only, the login user and the port. Put the host (host()) after them.
  std::vector<std::string> client_options() const;
  // Runs a client program (ssh, scp or sftp) with client_options(), then
  // `arguments`, without the test's agent or display; stdin from stdin_data, or /dev/null.
  RunResult run_client(std::string_view program, const std::vector<std::string>& arguments,
                       std::optional<std::string> stdin_data = std::nullopt) const;
  // `ssh <client_options()> -- 127.0.0.1 <command>`: the command arrives as it is given.
  RunResult ssh(std::string_view command,
                std::optional<std::string> stdin_data = std::nullopt) const;

  // sshd's stderr (-e) at LogLevel VERBOSE: start-up, each connection and login, and errors.
  const std::filesystem::path& log_file() const { return log_file_; }
  std::string log_text() const { return read_text_file(log_file_); }
  const std::filesystem::path& config_file() const { return config_file_; }
  const std::filesystem::path& dir() const { return root_.path(); }

  // SIGTERM to the listener; open sessions go on until their clients leave.
  void stop();
  // Starts the stopped sshd again on the same port, keys and configuration.
  void start();
  bool running();
  pid_t pid() const { return server_ ? server_->pid() : -1; }

 private:
  void make_keys();
  void write_recorder();
  void write_config();
  std::string authorized_line(std::string_view public_key_line) const;
  void give_to_login_user(const std::filesystem::path& path) const;

  SshdOptions options_;
  ServerUser user_;
  TempDir root_{"portcullis-sshd-"};
  std::filesystem::path home_dir_;
  std::filesystem::path host_key_file_;
  std::filesystem::path client_key_file_;
  std::filesystem::path client_public_key_file_;
  std::filesystem::path known_hosts_file_;
  std::filesystem::path authorized_keys_file_;
  std::filesystem::path recorder_file_;
  std::filesystem::path records_file_;
  std::filesystem::path config_file_;
  std::filesystem::path log_file_;
  std::string host_public_key_;
  uint16_t port_ = 0;
  std::optional<ChildProcess> server_;
};

}  // namespace portcullis::testing
