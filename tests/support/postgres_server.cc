// Cluster creation, configuration, start-up and shutdown of a test PostgreSQL server.
#include "postgres_server.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "child_process.h"
#include "free_port.h"
#include "random_password.h"

namespace portcullis::testing {

namespace {

// The version the project targets; others are used only when it is not installed.
constexpr std::string_view kPreferredVersion = "15";
constexpr std::string_view kVersionsRoot = "/usr/lib/postgresql";

// Start-up normally takes well under a second; a loaded CI machine can be much slower.
constexpr auto kPostgresStartTimeout = std::chrono::seconds(60);
constexpr auto kPostgresStopTimeout = std::chrono::seconds(30);
constexpr auto kPostgresToolTimeout = std::chrono::seconds(120);

// Environment variables that would redirect psql or the server somewhere else.
const std::vector<std::string> kPgEnvironment = {"PGHOST",
                                                 "PGHOSTADDR",
                                                 "PGPORT",
                                                 "PGUSER",
                                                 "PGPASSWORD",
                                                 "PGPASSFILE",
                                                 "PGDATABASE",
                                                 "PGSERVICE",
                                                 "PGSSLMODE",
                                                 "PGSSLROOTCERT",
                                                 "PGSSLCERT",
                                                 "PGSSLKEY",
                                                 "PGOPTIONS",
                                                 "PGDATA",
                                                 "PGREQUIRESSL",
                                                 "PGCONNECT_TIMEOUT",
                                                 "PGTARGETSESSIONATTRS"};

// A single-quoted SQL or postgresql.conf literal.
std::string postgres_literal(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  return quoted + "'";
}

// postmaster.pid's 8th line is "ready" once the server accepts connections; pg_ctl -w
// waits on the same thing.
bool postmaster_ready(const std::filesystem::path& data_dir) {
  std::istringstream lines(read_text_file(data_dir / "postmaster.pid"));
  std::string line;
  for (int i = 0; i < 8 && std::getline(lines, line); ++i) {
  }
  return line.starts_with("ready");
}

}  // namespace

std::filesystem::path pg_bin(std::string_view name) {
  if (const char* dir = std::getenv("PORTCULLIS_PG_BINDIR"); dir != nullptr && *dir != '\0') {
    if (auto found = executable_in(dir, name)) return *found;
  }
  std::filesystem::path root(kVersionsRoot);
  if (auto found = executable_in(root / kPreferredVersion / "bin", name)) return *found;
  std::vector<std::pair<int, std::filesystem::path>> versions;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(root, ignored)) {
    const std::string version = entry.path().filename().string();
    if (!version.empty() && std::all_of(version.begin(), version.end(), ::isdigit)) {
      versions.emplace_back(std::stoi(version), entry.path() / "bin");
    }
  }
  std::sort(versions.rbegin(), versions.rend());
  for (const auto& [version, dir] : versions) {
    if (auto found = executable_in(dir, name)) return *found;
  }
  if (const char* path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (auto found = executable_in(dir, name)) return *found;
    }
  }
  throw std::runtime_error(fmt::format("PostgreSQL program {} not found", name));
}

PostgresServer::PostgresServer(PostgresOptions options)
    : options_(std::move(options)), user_(server_user()) {
  data_dir_ = root_ / "data";
  log_file_ = root_ / "postgresql.log";
  // The server creates its socket and lock files in the root.
  give_to_server_user(user_, root_.path().string());
  scram_ = {"scram_user", random_password()};
  md5_ = {"md5_user", random_password()};
  trust_ = {"trust_user", random_password()};
  port_ = free_tcp_port();

  init_cluster();
  write_config();
  write_hba();
  start();
  create_roles();
}

PostgresServer::~PostgresServer() {
  try {
    stop();
  } catch (...) {
    // The ChildProcess destructor still kills the postmaster; nothing else to do here.
  }
}

ChildOptions PostgresServer::as_server_user(std::vector<std::string> argv) const {
  ChildOptions options;
  options.argv = std::move(argv);
  options.unset_env = kPgEnvironment;
  // A predictable locale: initdb otherwise takes it from the environment and can fail on
  // locales that are not generated.
  options.env = {{"LC_ALL", "C"}, {"LANG", "C"}};
  options.working_dir = root_.path();
  if (user_) {
    options.uid = user_->uid;
    options.gid = user_->gid;
  }
  return options;
}

void PostgresServer::init_cluster() {
  ChildOptions initdb = as_server_user({pg_bin("initdb").string(), "-D", data_dir_.string(), "-U",
                                        std::string(kSuperuser), "--auth=trust", "--encoding=UTF8",
                                        "--locale=C", "--no-sync", "--no-instructions"});
  RunResult result = run_command(std::move(initdb), kPostgresToolTimeout);
  if (!result.ok()) throw std::runtime_error("initdb failed: " + result.describe());
}

std::filesystem::path PostgresServer::install_ssl_file(const std::filesystem::path& source,
                                                       std::string_view name, bool secret) {
  std::filesystem::path target = root_ / "ssl" / name;
  std::filesystem::create_directories(target.parent_path());
  std::filesystem::copy_file(source, target, std::filesystem::copy_options::overwrite_existing);
  // PostgreSQL refuses a key that others can read, or that another non-root user owns.
  std::filesystem::permissions(
      target, secret
                  ? std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
                  : std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                        std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  give_to_server_user(user_, target.string());
  return target;
}

void PostgresServer::write_config() {
  std::ofstream conf(data_dir_ / "postgresql.conf", std::ios::app);
  conf << "\n# Written by the Portcullis test harness.\n";
  conf << "listen_addresses = '127.0.0.1'\n";
  conf << "port = " << port_ << "\n";
  conf << "unix_socket_directories = " << postgres_literal(root_.path().string()) << "\n";
  // Test data is disposable: durability only costs time.
  conf << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
  conf << "logging_collector = off\n";
  conf << "log_connections = on\nlog_disconnections = on\n";
  conf << "password_encryption = 'scram-sha-256'\n";
  if (options_.log_statements) conf << "log_statement = 'all'\n";
  if (options_.ssl) {
    if (options_.ssl_cert_file.empty() || options_.ssl_key_file.empty()) {
      throw std::invalid_argument("PostgresOptions: ssl needs ssl_cert_file and ssl_key_file");
    }
    conf << "ssl = on\n";
    conf << "ssl_cert_file = "
         << postgres_literal(install_ssl_file(options_.ssl_cert_file, "server.crt", false).string())
         << "\n";
    conf << "ssl_key_file = "
         << postgres_literal(install_ssl_file(options_.ssl_key_file, "server.key", true).string())
         << "\n";
    if (!options_.ssl_ca_file.empty()) {
      conf << "ssl_ca_file = "
           << postgres_literal(install_ssl_file(options_.ssl_ca_file, "ca.crt", false).string())
           << "\n";
    }
  }
  for (const auto& line : options_.extra_conf) conf << line << "\n";
  if (!conf) throw std::runtime_error("cannot write postgresql.conf");
}

void PostgresServer::write_hba() {
  // Truncating keeps the file's owner (the server user), which PostgreSQL needs.
  std::ofstream hba(data_dir_ / "pg_hba.conf", std::ios::trunc);
  hba << "# Written by the Portcullis test harness: one role per backend auth method.\n";
  for (const auto& line : options_.extra_hba) hba << line << "\n";
  hba << "local all " << kSuperuser << " trust\n";
  hba << "local all all scram-sha-256\n";
  hba << "host all trust_user 127.0.0.1/32 trust\n";
  hba << "host all md5_user 127.0.0.1/32 md5\n";
  hba << "host all all 127.0.0.1/32 scram-sha-256\n";
  if (!hba) throw std::runtime_error("cannot write pg_hba.conf");
}

void PostgresServer::start() {
  if (postmaster_ && postmaster_->running()) return;
  ChildOptions options = as_server_user({pg_bin("postgres").string(), "-D", data_dir_.string()});
  options.stdout_file = log_file_;
  options.stderr_file = log_file_;
  // Immediate shutdown if the test process dies: the postmaster then stops its backends and
  // releases shared memory.
  options.parent_death_signal = SIGQUIT;
  postmaster_.emplace(std::move(options));

  auto deadline = std::chrono::steady_clock::now() + kPostgresStartTimeout;
  while (!postmaster_ready(data_dir_)) {
    if (!postmaster_->running()) {
      throw std::runtime_error(
          fmt::format("postgres {}:\n{}", postmaster_->wait().describe(), log_text()));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      postmaster_->kill9();
      throw std::runtime_error(fmt::format("postgres did not become ready within {}s:\n{}",
                                           kPostgresStartTimeout.count(), log_text()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void PostgresServer::stop() {
  if (!postmaster_) return;
  // SIGINT is PostgreSQL's fast shutdown: roll back open transactions, disconnect, exit.
  postmaster_->send_signal(SIGINT);
  ExitStatus status = postmaster_->wait(kPostgresStopTimeout);
  postmaster_.reset();
  if (status.timed_out) {
    throw std::runtime_error(fmt::format("postgres did not stop within {}s:\n{}",
                                         kPostgresStopTimeout.count(), log_text()));
  }
}

bool PostgresServer::running() {
  return postmaster_ && postmaster_->running();
}

void PostgresServer::create_roles() {
  // Run as a script (stdin), not -c: CREATE DATABASE cannot run inside the implicit
  // transaction of a multi-statement -c string.
  std::string sql = fmt::format(
      "SET password_encryption = 'scram-sha-256';\n"
      "CREATE ROLE scram_user LOGIN PASSWORD {};\n"
      "CREATE ROLE trust_user LOGIN PASSWORD {};\n"
      "SET password_encryption = 'md5';\n"
      "CREATE ROLE md5_user LOGIN PASSWORD {};\n"
      "CREATE DATABASE app OWNER scram_user;\n",
      postgres_literal(scram_.password), postgres_literal(trust_.password),
      postgres_literal(md5_.password));
  RunResult result = psql_superuser(sql, "postgres");
  if (!result.ok()) throw std::runtime_error("creating roles failed: " + result.describe());
}

std::string PostgresServer::conninfo(std::string_view user, std::string_view dbname,
                                     std::string_view extra) const {
  std::string info = fmt::format("host={} port={} user={} dbname={}", host(), port_, user, dbname);
  if (!extra.empty()) info += fmt::format(" {}", extra);
  return info;
}

std::string PostgresServer::conninfo(const PostgresRole& role, std::string_view dbname,
                                     std::string_view extra) const {
  return conninfo(role.name, dbname,
                  fmt::format("password={}{}{}", postgres_literal(role.password),
                              extra.empty() ? "" : " ", extra));
}

std::string PostgresServer::superuser_conninfo(std::string_view dbname) const {
  return fmt::format("host={} port={} user={} dbname={}", root_.path().string(), port_, kSuperuser,
                     dbname);
}

RunResult PostgresServer::psql_superuser(std::string_view sql, std::string_view dbname) const {
  ChildOptions options;
  options.argv = {pg_bin("psql").string(),   "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                  superuser_conninfo(dbname)};
  options.unset_env = kPgEnvironment;
  options.stdin_data = std::string(sql);
  return run_command(std::move(options), kPostgresToolTimeout);
}

RunResult PostgresServer::psql(const PostgresRole& role, std::string_view sql,
                               std::string_view dbname, std::string_view extra) const {
  ChildOptions options;
  options.argv = {
      pg_bin("psql").string(),           "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d",
      conninfo(role.name, dbname, extra)};
  options.unset_env = kPgEnvironment;
  options.env = {{"PGPASSWORD", role.password}, {"PGCONNECT_TIMEOUT", "10"}};
  options.stdin_data = std::string(sql);
  return run_command(std::move(options), kPostgresToolTimeout);
}

}  // namespace portcullis::testing
