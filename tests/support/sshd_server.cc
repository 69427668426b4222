// Keys, configuration, the command recorder, start-up and shutdown of a test sshd.
#include "sshd_server.h"

#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "free_port.h"
#include "server_log.h"

namespace portcullis::testing {

namespace {

// Absolute, because sshd re-executes itself for each connection and refuses a relative path.
constexpr std::string_view kSshd = "/usr/sbin/sshd";
// Where Debian's openssh-server puts it (openssh-sftp-server, pulled in by openssh-server).
constexpr std::string_view kSftpServer = "/usr/lib/openssh/sftp-server";
// sshd, as root, checks that its privilege separation directory exists and chroots its
// pre-authentication children into it. Compiled in (Debian: /run/sshd); the packaged service
// makes it at boot, which a container or a machine where the service never ran has not done.
constexpr std::string_view kPrivsepDir = "/run/sshd";

// Start-up is a few milliseconds; a loaded CI machine can be much slower.
constexpr auto kSshdStartTimeout = std::chrono::seconds(30);
constexpr auto kSshdStopTimeout = std::chrono::seconds(10);
constexpr auto kSshdToolTimeout = std::chrono::seconds(60);
// A client gives up on a server that does not answer, rather than running into the test's
// timeout.
constexpr int kClientConnectTimeoutSeconds = 10;

// 0644: the login user reads the authorised keys and the recorder writes its records.
constexpr auto kReadableByAll =
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
    std::filesystem::perms::group_read | std::filesystem::perms::others_read;

// The recorder's record kinds (see write_recorder()).
constexpr std::string_view kExecRecord = "exec ";
constexpr std::string_view kShellRecord = "shell";
constexpr std::string_view kSubsystemRecord = "subsystem ";

// What would make a client use an agent, a graphical password prompt or a display.
const std::vector<std::string> kClientEnvironment = {
    "SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "DISPLAY"};

// A single-quoted shell word. The paths quoted here come from mkdtemp and hold no quote today.
std::string shell_quote(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

void write_file(const std::filesystem::path& path, std::string_view text,
                std::filesystem::perms perms) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
  std::filesystem::permissions(path, perms);
}

void make_key(const std::filesystem::path& path, std::string_view comment) {
  RunResult made = run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                                std::string(comment), "-f", path.string()},
                               {}, kSshdToolTimeout);
  if (!made.ok()) {
    throw std::runtime_error(
        fmt::format("ssh-keygen for {} failed: {}", path.string(), made.describe()));
  }
}

// sshd, as root, checks the directory is root's and writable by no one else.
void ensure_privsep_dir() {
  if (::geteuid() != 0) return;  // a non-root sshd does not separate privileges
  std::error_code ignored;
  if (std::filesystem::is_directory(kPrivsepDir, ignored)) return;
  if (::mkdir(std::string(kPrivsepDir).c_str(), 0755) != 0 && errno != EEXIST) {
    throw std::runtime_error(fmt::format("mkdir {}: {}", kPrivsepDir, std::strerror(errno)));
  }
}

}  // namespace

SshdServer::SshdServer(SshdOptions options)
    : options_(std::move(options)), user_(ssh_login_user()) {
  home_dir_ = root_ / "home";
  host_key_file_ = root_ / "ssh_host_ed25519_key";
  client_key_file_ = root_ / "client_ed25519";
  client_public_key_file_ = root_ / "client_ed25519.pub";
  known_hosts_file_ = root_ / "known_hosts";
  authorized_keys_file_ = root_ / "authorized_keys";
  recorder_file_ = root_ / "recorder";
  records_file_ = root_ / "received";
  config_file_ = root_ / "sshd_config";
  log_file_ = root_ / "sshd.log";
  port_ = free_tcp_port();

  std::filesystem::create_directory(home_dir_);
  give_to_login_user(home_dir_);
  // The recorder runs as the login user and appends to this file.
  write_file(records_file_, "", kReadableByAll);
  give_to_login_user(records_file_);

  make_keys();
  write_recorder();
  write_config();
  ensure_privsep_dir();
  start();
}

SshdServer::~SshdServer() {
  try {
    stop();
  } catch (...) {
    // The ChildProcess destructor still kills sshd; nothing else to do here.
  }
}

void SshdServer::give_to_login_user(const std::filesystem::path& path) const {
  if (::geteuid() != 0) return;
  if (::chown(path.c_str(), user_.uid, user_.gid) != 0) {
    throw std::runtime_error(fmt::format("chown {}: {}", path.string(), std::strerror(errno)));
  }
}

void SshdServer::make_keys() {
  make_key(host_key_file_, "portcullis-test-host");
  make_key(client_key_file_, "portcullis-test-client");
  // "ssh-ed25519 BASE64 comment": the key is the first two fields.
  const std::string line = trimmed(read_text_file(host_key_file_.string() + ".pub"));
  const auto type_end = line.find(' ');
  if (type_end == std::string::npos) {
    throw std::runtime_error("unreadable host public key: " + line);
  }
  host_public_key_ = line.substr(0, line.find(' ', type_end + 1));
  write_file(known_hosts_file_, known_hosts_line() + "\n", kReadableByAll);
  // Read by sshd as the login user.
  write_file(authorized_keys_file_,
             authorized_line(trimmed(read_text_file(client_public_key_file_))) + "\n",
             kReadableByAll);
}

std::string SshdServer::known_hosts_line() const {
  return fmt::format("[{}]:{} {}", host(), port_, host_public_key_);
}

// Every authorised key forces the recorder, which sshd runs (through the login shell) in place
// of whatever the client asked for, with the request in $SSH_ORIGINAL_COMMAND.
std::string SshdServer::authorized_line(std::string_view public_key_line) const {
  return fmt::format("command=\"{}\" {}", recorder_file_.string(), public_key_line);
}

void SshdServer::authorize_key(std::string_view public_key_line) {
  const std::string key = trimmed(public_key_line);
  if (key.empty() || key.find('\n') != std::string::npos) {
    throw std::invalid_argument("authorize_key: one public key line expected");
  }
  std::ofstream out(authorized_keys_file_, std::ios::binary | std::ios::app);
  out << authorized_line(key) << "\n";
  out.close();
  if (!out) throw std::runtime_error("cannot write " + authorized_keys_file_.string());
}

// The recorder appends one record per request and then does what was asked, as sshd would
// have without it (exec keeps the exit status and the standard streams):
//   exec:      "exec " + $SSH_ORIGINAL_COMMAND, then /bin/sh -c "$SSH_ORIGINAL_COMMAND";
//   shell:     "shell" (no $SSH_ORIGINAL_COMMAND at all), then a login /bin/sh;
//   subsystem: "subsystem sftp" when $SSH_ORIGINAL_COMMAND is the Subsystem line's command,
//              then the sftp-server. That command names this server's temporary folder (the
//              sftp-server's -d), so no exec request that a test did not aim at it reads alike.
// Records end with a NUL: the only byte that an environment variable, and so a command, cannot
// hold. flock keeps records of concurrent sessions whole. /bin/sh rather than the account's
// shell, so that a test sees the same shell whoever runs it.
void SshdServer::write_recorder() {
  const std::string sftp_command = fmt::format("{} -d {}", kSftpServer, home_dir_.string());
  std::string script = fmt::format(
      "#!/bin/sh\n"
      "# Written by the test sshd harness (tests/support/sshd_server.cc).\n"
      "records={records}\n"
      "home={home}\n"
      "sftp_command={sftp_command}\n"
      "cd \"$home\" || exit 125\n"
      "HOME=$home\n"
      "export HOME\n"
      "if [ \"${{SSH_ORIGINAL_COMMAND+set}}\" != set ]; then\n"
      "  record='{shell}'\n"
      "elif [ \"$SSH_ORIGINAL_COMMAND\" = \"$sftp_command\" ]; then\n"
      "  record='{subsystem}sftp'\n"
      "else\n"
      "  record=\"{exec}$SSH_ORIGINAL_COMMAND\"\n"
      "fi\n"
      "{{ flock 9 && printf '%s\\000' \"$record\" >&9; }} 9>>\"$records\" || {{\n"
      "  echo \"recorder: cannot write $records\" >&2\n"
      "  exit 125\n"
      "}}\n"
      "command=$SSH_ORIGINAL_COMMAND\n"
      "unset SSH_ORIGINAL_COMMAND\n"
      "case $record in\n"
      "  '{shell}') exec /bin/sh -l ;;\n"
      "  '{subsystem}sftp') exec {sftp_server} -d \"$home\" ;;\n"
      "esac\n"
      "exec /bin/sh -c \"$command\"\n",
      fmt::arg("records", shell_quote(records_file_.string())),
      fmt::arg("home", shell_quote(home_dir_.string())),
      fmt::arg("sftp_command", shell_quote(sftp_command)), fmt::arg("shell", kShellRecord),
      fmt::arg("subsystem", kSubsystemRecord), fmt::arg("exec", kExecRecord),
      fmt::arg("sftp_server", kSftpServer));
  using std::filesystem::perms;
  write_file(recorder_file_, script,
             perms::owner_all | perms::group_read | perms::group_exec | perms::others_read |
                 perms::others_exec);
}

void SshdServer::write_config() {
  auto yes_no = [](bool value) { return value ? "yes" : "no"; };
  std::string sftp_line;
  if (!options_.sftp_command.empty())
    sftp_line = fmt::format("Subsystem sftp {}\n", options_.sftp_command);
  else if (options_.sftp_subsystem)
    sftp_line = fmt::format("Subsystem sftp {} -d {}\n", kSftpServer, home_dir_.string());
  std::string config = fmt::format(
      "# Written by the test sshd harness (tests/support/sshd_server.cc).\n"
      "ListenAddress {host}\n"
      "Port {port}\n"
      "AddressFamily inet\n"
      "HostKey {host_key}\n"
      "PidFile {pid_file}\n"
      // Without PAM, sshd itself checks the account (shell, locked password field) and needs
      // no /etc/pam.d/sshd, which a non-root sshd could not use anyway.
      "UsePAM no\n"
      "PubkeyAuthentication yes\n"
      "AuthenticationMethods publickey\n"
      "PasswordAuthentication no\n"
      "KbdInteractiveAuthentication no\n"
      "HostbasedAuthentication no\n"
      "AuthorizedKeysFile {authorized_keys}\n"
      // The key files live in a /tmp directory that sshd's ownership checks would refuse.
      "StrictModes no\n"
      // Only the login user: no other account of the machine is reachable through it.
      "AllowUsers {user}\n"
      "PermitRootLogin no\n"
      "PermitUserEnvironment no\n"
      "AllowTcpForwarding {tcp}\n"
      "AllowAgentForwarding {agent}\n"
      "X11Forwarding {x11}\n"
      "PermitTunnel no\n"
      "{sftp_line}"
      // Nothing in a session's output but what its command prints.
      "PrintMotd no\n"
      "PrintLastLog no\n"
      "Banner none\n"
      "UseDNS no\n"
      // Gateway tests open connections in bursts; the default (10:30:100) drops some of them.
      "MaxStartups 100\n"
      "LoginGraceTime 30\n"
      "LogLevel VERBOSE\n",
      fmt::arg("host", host()), fmt::arg("port", port_),
      fmt::arg("host_key", host_key_file_.string()),
      fmt::arg("pid_file", (root_ / "sshd.pid").string()),
      fmt::arg("authorized_keys", authorized_keys_file_.string()), fmt::arg("user", user_.name),
      fmt::arg("tcp", yes_no(options_.allow_tcp_forwarding)),
      fmt::arg("agent", yes_no(options_.allow_agent_forwarding)),
      fmt::arg("x11", yes_no(options_.x11_forwarding)), fmt::arg("sftp_line", sftp_line));
  for (const auto& line : options_.extra_config) config += line + "\n";
  write_file(config_file_, config, kReadableByAll);
}

// sshd runs as the test's user, which in CI is root: only root can switch to the login user
// after authentication (and separate privileges in a chroot before it). A non-root sshd works,
// but logs in its own user only, which is what ssh_login_user() gives then.
void SshdServer::start() {
  if (server_ && server_->running()) return;
  const std::string ready_line = fmt::format("Server listening on {} port {}.", host(), port_);
  const std::size_t ready_before = count_of(log_text(), ready_line);
  ChildOptions options;
  // -D: stay in the foreground, a child of the test; -e: log to stderr, that is the log file.
  options.argv = {std::string(kSshd), "-D", "-e", "-f", config_file_.string()};
  // Sessions get the environment sshd makes for them, not the test's.
  options.clear_env = true;
  options.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}, {"LC_ALL", "C"}};
  options.working_dir = root_.path();
  options.stdout_file = log_file_;
  options.stderr_file = log_file_;
  server_.emplace(std::move(options));

  // sshd logs the line after listen(): from then on a connection waits in the backlog.
  const auto deadline = std::chrono::steady_clock::now() + kSshdStartTimeout;
  while (count_of(log_text(), ready_line) <= ready_before) {
    if (!server_->running()) {
      ExitStatus status = server_->wait();
      server_.reset();
      throw std::runtime_error(fmt::format("sshd {}:\n{}", status.describe(), tail_of(log_text())));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      server_->kill9();
      server_.reset();
      throw std::runtime_error(fmt::format("sshd did not listen within {}s:\n{}",
                                           kSshdStartTimeout.count(), tail_of(log_text())));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void SshdServer::stop() {
  if (!server_) return;
  ExitStatus status = server_->terminate(kSshdStopTimeout);
  server_.reset();
  if (status.signal == SIGKILL) {
    throw std::runtime_error(fmt::format("sshd did not stop within {}s:\n{}",
                                         kSshdStopTimeout.count(), tail_of(log_text())));
  }
}

bool SshdServer::running() {
  return server_ && server_->running();
}

std::vector<SshRequest> SshdServer::received_requests() const {
  const std::string records = read_text_file(records_file_);
  std::vector<SshRequest> requests;
  std::size_t start = 0;
  // A record without its NUL is still being written by a session: not there yet.
  for (auto end = records.find('\0'); end != std::string::npos;
       start = end + 1, end = records.find('\0', start)) {
    std::string_view record(records.data() + start, end - start);
    if (record.starts_with(kExecRecord)) {
      record.remove_prefix(kExecRecord.size());
      requests.push_back({.kind = SshRequest::Kind::exec, .text = std::string(record)});
    } else if (record == kShellRecord) {
      requests.push_back({.kind = SshRequest::Kind::shell, .text = {}});
    } else if (record.starts_with(kSubsystemRecord)) {
      record.remove_prefix(kSubsystemRecord.size());
      requests.push_back({.kind = SshRequest::Kind::subsystem, .text = std::string(record)});
    } else {
      throw std::runtime_error(
          fmt::format("unknown record in {}: {}", records_file_.string(), std::string(record)));
    }
  }
  return requests;
}

std::vector<std::string> SshdServer::received_commands() const {
  std::vector<std::string> commands;
  for (auto& request : received_requests()) {
    switch (request.kind) {
      case SshRequest::Kind::exec:
        commands.push_back(std::move(request.text));
        break;
      case SshRequest::Kind::shell:
        commands.emplace_back(kShellMarker);
        break;
      case SshRequest::Kind::subsystem:
        commands.emplace_back(kSftpMarker);
        break;
    }
  }
  return commands;
}

std::vector<std::string> SshdServer::client_options() const {
  return {"-F", "/dev/null", "-o", "BatchMode=yes", "-o",
          "UserKnownHostsFile=" + known_hosts_file_.string(), "-o",
          "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o",
          "IdentitiesOnly=yes", "-o", "IdentityFile=" + client_key_file_.string(), "-o",
          "User=" + user_.name, "-o", fmt::format("Port={}", port_), "-o",
          fmt::format("ConnectTimeout={}", kClientConnectTimeoutSeconds),
          // Errors only: no "Warning: Permanently added" or similar in a command's stderr.
          "-o", "LogLevel=ERROR"};
}

RunResult SshdServer::run_client(std::string_view program,
                                 const std::vector<std::string>& arguments,
                                 std::optional<std::string> stdin_data) const {
  ChildOptions options;
  options.argv = {std::string(program)};
  for (auto& option : client_options()) options.argv.push_back(std::move(option));
  options.argv.insert(options.argv.end(), arguments.begin(), arguments.end());
  options.unset_env = kClientEnvironment;
  options.stdin_data = std::move(stdin_data);
  return run_command(std::move(options), kSshdToolTimeout);
}

RunResult SshdServer::ssh(std::string_view command, std::optional<std::string> stdin_data) const {
  // After "--" ssh reads no more options, even after the host: a command that starts with '-'
  // stays a command.
  return run_client("ssh", {"--", host(), std::string(command)}, std::move(stdin_data));
}

}  // namespace portcullis::testing
