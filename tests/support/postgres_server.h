// A real PostgreSQL server per test (or per suite): its own cluster in a temporary directory,
// a free port on 127.0.0.1, and roles for each authentication method the gateway must speak
// to a backend.
#pragma once

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

// The path of a PostgreSQL program (postgres, initdb, psql, pgbench, ...). Looks in
// $PORTCULLIS_PG_BINDIR, then /usr/lib/postgresql/15/bin, then the newest other version
// there, then PATH. Throws std::runtime_error if it is nowhere.
std::filesystem::path pg_bin(std::string_view name);

struct PostgresOptions {
  // ssl = on with these files (copied into the server's directory and given to the server
  // user, as PostgreSQL requires of its key). Use TestCertificates to make them.
  bool ssl = false;
  std::filesystem::path ssl_cert_file;
  std::filesystem::path ssl_key_file;
  // Enables client-certificate checks against this CA when set.
  std::filesystem::path ssl_ca_file;
  // log_statement = all, so that a test can see what reached the backend (log_file()).
  bool log_statements = false;
  // Appended to postgresql.conf, e.g. "max_connections = 20".
  std::vector<std::string> extra_conf;
  // Placed in pg_hba.conf before the default rules, so that they take precedence.
  std::vector<std::string> extra_hba;
};

struct PostgresRole {
  std::string name;
  std::string password;
};

class PostgresServer {
 public:
  // Runs initdb, configures authentication, starts the server, waits until it accepts
  // connections and creates the roles and the `app` database. Throws std::runtime_error
  // with the server log on failure, which fails the test that constructed it.
  explicit PostgresServer(PostgresOptions options = {});
  // Stops the server (fast shutdown) and removes the cluster.
  ~PostgresServer();

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  const std::filesystem::path& socket_dir() const { return root_.path(); }
  // The server's stderr: startup messages, errors and, with log_statements, every statement.
  const std::filesystem::path& log_file() const { return log_file_; }
  std::string log_text() const { return read_text_file(log_file_); }
  const std::optional<ServerUser>& user() const { return user_; }

  // SCRAM-SHA-256 over TCP; owns the database `app`.
  const PostgresRole& scram_role() const { return scram_; }
  // MD5 over TCP (its password is stored as an MD5 hash).
  const PostgresRole& md5_role() const { return md5_; }
  // Trusted over TCP: no password asked. It still has one, for tests that send it anyway.
  const PostgresRole& trust_role() const { return trust_; }
  static constexpr std::string_view kSuperuser = "postgres";
  static constexpr std::string_view kDatabase = "app";

  // "host=127.0.0.1 port=P user=U dbname=D" followed by `extra` (more key=value pairs).
  std::string conninfo(std::string_view user, std::string_view dbname = kDatabase,
                       std::string_view extra = {}) const;
  // The same with password=..., for libpq clients that take everything in one string.
  std::string conninfo(const PostgresRole& role, std::string_view dbname = kDatabase,
                       std::string_view extra = {}) const;
  // The superuser over the Unix socket (trusted).
  std::string superuser_conninfo(std::string_view dbname = kDatabase) const;

  // Runs SQL through psql as the superuser over the Unix socket, with ON_ERROR_STOP, no
  // psqlrc, unaligned tuples-only output: `SELECT 1` prints "1\n".
  RunResult psql_superuser(std::string_view sql, std::string_view dbname = kDatabase) const;
  // Runs SQL through psql over TCP as `role`, password in PGPASSWORD (same output flags).
  RunResult psql(const PostgresRole& role, std::string_view sql,
                 std::string_view dbname = kDatabase, std::string_view extra = {}) const;

  // Fast shutdown (what `pg_ctl stop -m fast` does); the cluster stays for start().
  void stop();
  // Starts the stopped server again on the same port and data.
  void start();
  bool running();
  // The postmaster's pid, e.g. to kill it and watch the gateway cope.
  pid_t pid() const { return postmaster_ ? postmaster_->pid() : -1; }

 private:
  void init_cluster();
  void write_config();
  void write_hba();
  void create_roles();
  std::filesystem::path install_ssl_file(const std::filesystem::path& source, std::string_view name,
                                         bool secret);
  ChildOptions as_server_user(std::vector<std::string> argv) const;

  PostgresOptions options_;
  std::optional<ServerUser> user_;
  TempDir root_{"portcullis-pg-"};
  std::filesystem::path data_dir_;
  std::filesystem::path log_file_;
  uint16_t port_ = 0;
  PostgresRole scram_;
  PostgresRole md5_;
  PostgresRole trust_;
  std::optional<ChildProcess> postmaster_;
};

}  // namespace portcullis::testing
