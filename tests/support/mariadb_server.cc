// Data directory creation, start-up, users and shutdown of a test MariaDB server.
#include "mariadb_server.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "child_process.h"
#include "free_port.h"
#include "random_password.h"
#include "server_log.h"

namespace portcullis::testing {

namespace {

// Start-up normally takes well under a second; a loaded CI machine can be much slower.
constexpr auto kMariadbStartTimeout = std::chrono::seconds(60);
constexpr auto kMariadbStopTimeout = std::chrono::seconds(30);
constexpr auto kMariadbToolTimeout = std::chrono::seconds(120);

// What mariadbd prints once it accepts connections; counted, because a restart appends to
// the same log.
constexpr std::string_view kReadyLine = "ready for connections";

// Where Debian's mariadb-server puts plugins (auth_ed25519.so); mariadb_config, which would
// say so, comes only with the development package.
constexpr std::string_view kDebianPluginDir = "/usr/lib/mysql/plugin";

// Where the data directories that mariadb-install-db makes are kept for later servers (see
// template_data_dir()).
constexpr std::string_view kTemplatePrefix = "/tmp/portcullis-mariadb-template-";

// Files without which a copied data directory does not start: InnoDB's system tablespace and
// redo log, Aria's control file and the user table.
constexpr std::array<std::string_view, 4> kTemplateFiles = {
    "ibdata1", "ib_logfile0", "aria_log_control", "mysql/global_priv.MAI"};

// Environment variables that would send the mariadb client somewhere else or log it in as
// someone else.
const std::vector<std::string> kMariadbEnvironment = {
    "MYSQL_HOST",     "MYSQL_TCP_PORT", "MYSQL_UNIX_PORT", "MYSQL_PWD", "MYSQL_TEST_LOGIN_FILE",
    "MYSQL_HISTFILE", "MARIADB_HOST",   "MARIADB_PWD"};

// A single-quoted MariaDB string literal; backslash escapes in the default sql_mode.
std::string mariadb_literal(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

std::string plugin_dir() {
  if (const char* dir = std::getenv("PORTCULLIS_MARIADB_PLUGIN_DIR");
      dir != nullptr && *dir != '\0') {
    return dir;
  }
  std::error_code ignored;
  if (std::filesystem::is_directory(kDebianPluginDir, ignored)) {
    return std::string(kDebianPluginDir);
  }
  return {};  // the server's compiled-in default
}

// Options shared by mariadb-install-db (which passes them on to its bootstrap server) and
// mariadbd: small and unsynchronised, because test data is disposable and start-up time counts.
std::vector<std::string> storage_arguments() {
  std::vector<std::string> arguments = {
      "--innodb-buffer-pool-size=16M",
      "--innodb-log-file-size=8M",
      // No fsync at all: halves mariadb-install-db's time.
      "--innodb-flush-method=nosync",
      "--innodb-flush-log-at-trx-commit=0",
      "--skip-log-bin",
      "--performance-schema=OFF",
      "--skip-name-resolve",
  };
  if (std::string dir = plugin_dir(); !dir.empty()) arguments.push_back("--plugin-dir=" + dir);
  return arguments;
}

// Identifies what a template data directory depends on: the server build (path, size, time),
// the options it was made with, the user that owns it and the user of the test process, which
// owns the lock file (root running servers as portcullis-test, and portcullis-test running
// the tests itself, must not share one).
std::string template_key(const std::vector<std::string>& install_argv, uid_t owner) {
  struct stat server {};
  const std::filesystem::path server_path = mariadb_bin("mariadbd");
  if (::stat(server_path.c_str(), &server) != 0) {
    throw std::runtime_error(
        fmt::format("stat {}: {}", server_path.string(), std::strerror(errno)));
  }
  std::string identity = fmt::format("{} {} {} {} {}", server_path.string(), server.st_size,
                                     server.st_mtim.tv_sec, owner, ::geteuid());
  for (const auto& argument : install_argv) {
    // The data directory differs every time and does not matter to what is made.
    if (!argument.starts_with("--datadir=")) identity += " " + argument;
  }
  return fmt::format("{:016x}", std::hash<std::string>{}(identity));
}

// Serialises the making of one template between the test processes that ctest runs in
// parallel; released when the object goes.
class TemplateLock {
 public:
  explicit TemplateLock(const std::string& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::runtime_error(fmt::format("open {}: {}", path, std::strerror(errno)));
    ::flock(fd_, LOCK_EX);
  }
  ~TemplateLock() { ::close(fd_); }
  TemplateLock(const TemplateLock&) = delete;
  TemplateLock& operator=(const TemplateLock&) = delete;

 private:
  int fd_;
};

}  // namespace

std::filesystem::path mariadb_bin(std::string_view name) {
  if (const char* dir = std::getenv("PORTCULLIS_MARIADB_BINDIR"); dir != nullptr && *dir != '\0') {
    if (auto found = executable_in(dir, name)) return *found;
  }
  for (const char* dir : {"/usr/sbin", "/usr/bin"}) {
    if (auto found = executable_in(dir, name)) return *found;
  }
  if (const char* path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (auto found = executable_in(dir, name)) return *found;
    }
  }
  throw std::runtime_error(fmt::format("MariaDB program {} not found", name));
}

MariadbServer::MariadbServer(MariadbOptions options)
    : options_(std::move(options)), user_(server_user()) {
  data_dir_ = root_ / "data";
  socket_path_ = root_ / "mariadbd.sock";
  log_file_ = root_ / "mariadbd.log";
  if (options_.log_statements) general_log_file_ = root_ / "general.log";
  // sockaddr_un::sun_path holds 107 bytes and a NUL; mariadbd refuses a longer path.
  if (socket_path_.string().size() >= sizeof(sockaddr_un::sun_path)) {
    throw std::runtime_error("socket path too long: " + socket_path_.string());
  }
  // The server writes its socket, pid file and logs in the root. The error log is created
  // here, because the test (perhaps root) opens it for mariadbd's stdout and stderr and
  // mariadbd, as the server user, then reopens it.
  std::ofstream(log_file_).flush();
  give_to_server_user(user_, root_.path().string());
  give_to_server_user(user_, log_file_.string());
  native_ = {"native_user", random_password()};
  ed25519_ = {"ed25519_user", random_password()};
  readonly_ = {"readonly_user", random_password()};
  port_ = free_tcp_port();

  install_data_dir();
  start();
  create_users();
}

MariadbServer::~MariadbServer() {
  try {
    stop();
  } catch (...) {
    // The ChildProcess destructor still kills mariadbd; nothing else to do here.
  }
}

ChildOptions MariadbServer::as_server_user(std::vector<std::string> argv) const {
  ChildOptions options;
  options.argv = std::move(argv);
  options.unset_env = kMariadbEnvironment;
  options.env = {{"LC_ALL", "C"}, {"LANG", "C"}};
  options.working_dir = root_.path();
  // Run as the server user from the start rather than with mariadbd's --user: the kernel
  // clears the parent-death signal when a process changes its own credentials, and mariadbd
  // refuses to run as root without --user.
  if (user_) {
    options.uid = user_->uid;
    options.gid = user_->gid;
  }
  return options;
}

std::vector<std::string> MariadbServer::install_arguments(
    const std::filesystem::path& data_dir) const {
  std::vector<std::string> argv = {
      mariadb_bin("mariadb-install-db").string(),
      // Must come first: no /etc/mysql option files, which name the system server's paths.
      "--no-defaults",
      "--datadir=" + data_dir.string(),
      // root@localhost gets an empty password rather than unix_socket authentication, which
      // would admit only the OS user the server runs as.
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
  };
  for (auto& argument : storage_arguments()) argv.push_back(std::move(argument));
  return argv;
}

// mariadb-install-db takes one second on an idle machine and five on a loaded one: it loads
// the system tables, help text and sys schema statement by statement. Its result depends only
// on the server build and the options, so it is made once into a template that every later
// server, in this process or another, copies in a few milliseconds.
std::filesystem::path MariadbServer::template_data_dir() {
  const uid_t owner = user_ ? user_->uid : ::geteuid();
  const std::string key = template_key(install_arguments(data_dir_), owner);
  const std::filesystem::path template_dir = std::string(kTemplatePrefix) + key;
  TemplateLock lock(template_dir.string() + ".lock");
  std::error_code ignored;
  // /tmp cleaners (systemd-tmpfiles) delete files by age one at a time: a template that lost
  // any of the files a start needs is made again.
  const bool complete =
      std::all_of(kTemplateFiles.begin(), kTemplateFiles.end(), [&](std::string_view file) {
        return std::filesystem::exists(template_dir / "data" / file, ignored);
      });
  if (complete) return template_dir / "data";
  std::filesystem::remove_all(template_dir, ignored);

  // Made inside this server's directory and renamed into place when complete, so that a
  // failure leaves no half-made template behind.
  const std::filesystem::path staging = root_ / "template";
  std::filesystem::create_directory(staging);
  give_to_server_user(user_, staging.string());
  RunResult result =
      run_command(as_server_user(install_arguments(staging / "data")), kMariadbToolTimeout);
  if (!result.ok()) throw std::runtime_error("mariadb-install-db failed: " + result.describe());
  std::filesystem::rename(staging, template_dir);
  return template_dir / "data";
}

void MariadbServer::install_data_dir() {
  const std::filesystem::path source = template_data_dir();
  // cp as the server user, so that the copy is the server's own and keeps the 0700/0660 modes.
  RunResult copied = run_command(
      as_server_user({"cp", "-R", "--preserve=mode", source.string(), data_dir_.string()}),
      kMariadbToolTimeout);
  if (!copied.ok()) {
    throw std::runtime_error(fmt::format("copying the data directory template {} failed: {}",
                                         source.string(), copied.describe()));
  }
}

std::filesystem::path MariadbServer::install_ssl_file(const std::filesystem::path& source,
                                                      std::string_view name) {
  std::filesystem::path target = root_ / "ssl" / name;
  std::filesystem::create_directories(target.parent_path());
  std::filesystem::copy_file(source, target, std::filesystem::copy_options::overwrite_existing);
  // The key may be 0600 and owned by root: the server user must be able to read its copy.
  std::filesystem::permissions(
      target, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  give_to_server_user(user_, target.string());
  return target;
}

std::vector<std::string> MariadbServer::server_arguments() {
  std::vector<std::string> argv = {
      mariadb_bin("mariadbd").string(),
      // Must come first: no /etc/mysql option files, which name the system server's paths.
      "--no-defaults",
      "--datadir=" + data_dir_.string(),
      "--socket=" + socket_path_.string(),
      "--port=" + std::to_string(port_),
      "--bind-address=127.0.0.1",
      "--pid-file=" + (root_ / "mariadbd.pid").string(),
      "--log-error=" + log_file_.string(),
      // Temporary tables beside the data, so that they go with it.
      "--tmpdir=" + root_.path().string(),
  };
  for (auto& argument : storage_arguments()) argv.push_back(std::move(argument));
  if (options_.log_statements) {
    argv.push_back("--general-log=1");
    argv.push_back("--general-log-file=" + general_log_file_.string());
    argv.push_back("--log-output=FILE");
  }
  if (options_.ssl) {
    if (options_.ssl_cert_file.empty() || options_.ssl_key_file.empty()) {
      throw std::invalid_argument("MariadbOptions: ssl needs ssl_cert_file and ssl_key_file");
    }
    argv.push_back("--ssl-cert=" + install_ssl_file(options_.ssl_cert_file, "server.crt").string());
    argv.push_back("--ssl-key=" + install_ssl_file(options_.ssl_key_file, "server.key").string());
    if (!options_.ssl_ca_file.empty()) {
      argv.push_back("--ssl-ca=" + install_ssl_file(options_.ssl_ca_file, "ca.crt").string());
    }
  } else {
    argv.push_back("--skip-ssl");
  }
  for (const auto& option : options_.extra_conf) {
    argv.push_back(option.starts_with("--") ? option : "--" + option);
  }
  return argv;
}

void MariadbServer::start() {
  if (server_ && server_->running()) return;
  const std::size_t ready_before = count_of(log_text(), kReadyLine);
  ChildOptions options = as_server_user(server_arguments());
  options.stdout_file = log_file_;
  options.stderr_file = log_file_;
  server_.emplace(std::move(options));

  auto deadline = std::chrono::steady_clock::now() + kMariadbStartTimeout;
  while (count_of(log_text(), kReadyLine) <= ready_before) {
    if (!server_->running()) {
      ExitStatus status = server_->wait();
      server_.reset();
      throw std::runtime_error(
          fmt::format("mariadbd {}:\n{}", status.describe(), tail_of(log_text())));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      server_->kill9();
      server_.reset();
      throw std::runtime_error(fmt::format("mariadbd did not become ready within {}s:\n{}",
                                           kMariadbStartTimeout.count(), tail_of(log_text())));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void MariadbServer::stop() {
  if (!server_) return;
  // SIGTERM is mariadbd's normal shutdown, the same as `mariadb-admin shutdown`, and needs no
  // login.
  ExitStatus status = server_->terminate(kMariadbStopTimeout);
  server_.reset();
  if (status.signal == SIGKILL) {
    throw std::runtime_error(fmt::format("mariadbd did not stop within {}s:\n{}",
                                         kMariadbStopTimeout.count(), tail_of(log_text())));
  }
}

bool MariadbServer::running() {
  return server_ && server_->running();
}

void MariadbServer::create_users() {
  std::string sql = fmt::format(
      // root over TCP would let a test reach the backend without the credentials the
      // gateway is meant to supply; root stays on the Unix socket.
      "DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';\n"
      "FLUSH PRIVILEGES;\n"
      "INSTALL SONAME 'auth_ed25519';\n"
      "CREATE DATABASE app;\n"
      "CREATE USER native_user@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD({});\n"
      "CREATE USER ed25519_user@'%' IDENTIFIED VIA ed25519 USING PASSWORD({});\n"
      "CREATE USER readonly_user@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD({});\n"
      "GRANT ALL ON app.* TO native_user@'%', ed25519_user@'%';\n"
      "GRANT SELECT ON app.* TO readonly_user@'%';\n"
      "SELECT VERSION();\n",
      mariadb_literal(native_.password), mariadb_literal(ed25519_.password),
      mariadb_literal(readonly_.password));
  RunResult result = mariadb_root(sql, "mysql");
  if (!result.ok()) {
    throw std::runtime_error(
        fmt::format("creating users failed: {}\n{}", result.describe(), tail_of(log_text())));
  }
  version_ = result.stdout_text;
  while (!version_.empty() && version_.back() == '\n') version_.pop_back();
}

RunResult MariadbServer::mariadb_root(std::string_view sql, std::string_view database) const {
  ChildOptions options;
  options.argv = {mariadb_bin("mariadb").string(),
                  "--no-defaults",
                  "--batch",
                  "--skip-column-names",
                  "--socket=" + socket_path_.string(),
                  "--user=" + std::string(kRootUser),
                  std::string(database)};
  options.unset_env = kMariadbEnvironment;
  options.stdin_data = std::string(sql);
  return run_command(std::move(options), kMariadbToolTimeout);
}

RunResult MariadbServer::mariadb(const MariadbUser& user, std::string_view sql,
                                 std::string_view database,
                                 const std::vector<std::string>& extra_args) const {
  ChildOptions options;
  options.argv = {mariadb_bin("mariadb").string(),
                  "--no-defaults",
                  "--batch",
                  "--skip-column-names",
                  "--protocol=TCP",
                  "--host=" + host(),
                  "--port=" + std::to_string(port_),
                  "--user=" + user.name,
                  "--connect-timeout=10"};
  options.argv.insert(options.argv.end(), extra_args.begin(), extra_args.end());
  options.argv.push_back(std::string(database));
  options.unset_env = kMariadbEnvironment;
  // Not --password=: the command line is visible to every user in ps.
  options.env = {{"MYSQL_PWD", user.password}};
  options.stdin_data = std::string(sql);
  return run_command(std::move(options), kMariadbToolTimeout);
}

}  // namespace portcullis::testing
