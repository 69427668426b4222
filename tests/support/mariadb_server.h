// A real MariaDB server per test (or per suite): its own data directory in a temporary
// directory, a free port on 127.0.0.1, and users for each authentication method the gateway
// must speak to a MySQL-protocol backend.
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

// The path of a MariaDB program (mariadbd, mariadb, mariadb-install-db, ...). Looks in
// $PORTCULLIS_MARIADB_BINDIR, then /usr/sbin and /usr/bin (mariadbd is in sbin, which is not
// on every user's PATH), then PATH. Throws std::runtime_error if it is nowhere.
std::filesystem::path mariadb_bin(std::string_view name);

struct MariadbOptions {
  // TLS with these files (copied into the server's directory and given to the server user).
  // Use TestCertificates to make them.
  bool ssl = false;
  std::filesystem::path ssl_cert_file;
  std::filesystem::path ssl_key_file;
  // The CA the server trusts for client certificates (ssl_ca); optional.
  std::filesystem::path ssl_ca_file;
  // The general query log to a file, so that a test can see what reached the backend
  // (general_log_text()).
  bool log_statements = false;
  // More server options in option-file form, e.g. "max_connections=20"; each is given to
  // mariadbd as --max_connections=20 (a leading "--" is accepted too).
  std::vector<std::string> extra_conf;
};

struct MariadbUser {
  std::string name;
  std::string password;
};

class MariadbServer {
 public:
  // Copies a data directory made by mariadb-install-db (made once, kept in /tmp for later
  // servers and test processes), starts mariadbd, waits until it accepts connections and creates
  // the users and the `app` database. Throws std::runtime_error with the server log on
  // failure, which fails the test that constructed it.
  explicit MariadbServer(MariadbOptions options = {});
  // Shuts the server down and removes its directory.
  ~MariadbServer();

  MariadbServer(const MariadbServer&) = delete;
  MariadbServer& operator=(const MariadbServer&) = delete;

  uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  const std::filesystem::path& socket_path() const { return socket_path_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  // The error log: start-up messages, warnings and errors.
  const std::filesystem::path& log_file() const { return log_file_; }
  std::string log_text() const { return read_text_file(log_file_); }
  // Every statement the server received, when log_statements is set (empty otherwise).
  const std::filesystem::path& general_log_file() const { return general_log_file_; }
  std::string general_log_text() const { return read_text_file(general_log_file_); }
  // SELECT VERSION(), e.g. "10.11.6-MariaDB-0+deb12u1".
  const std::string& version() const { return version_; }
  const std::optional<ServerUser>& user() const { return user_; }

  // mysql_native_password over TCP; all privileges on `app`.
  const MariadbUser& native_user() const { return native_; }
  // client_ed25519 (the auth_ed25519 plugin) over TCP; all privileges on `app`.
  const MariadbUser& ed25519_user() const { return ed25519_; }
  // mysql_native_password over TCP; SELECT on `app` only.
  const MariadbUser& readonly_user() const { return readonly_; }
  // There is no caching_sha2_password user: MariaDB 10.11 (Debian 12) has no server plugin
  // for it, so the gateway's caching_sha2_password client side is covered by codec unit tests.
  static constexpr std::string_view kRootUser = "root";
  static constexpr std::string_view kDatabase = "app";

  // Runs SQL through the mariadb client as root over the Unix socket, in batch mode without
  // column names, stopping at the first error: `SELECT 1` prints "1\n".
  RunResult mariadb_root(std::string_view sql, std::string_view database = kDatabase) const;
  // Runs SQL through the mariadb client over TCP as `user` (password in MYSQL_PWD), with the
  // same output flags; `extra_args` go before the database, e.g. {"--ssl"}.
  RunResult mariadb(const MariadbUser& user, std::string_view sql,
                    std::string_view database = kDatabase,
                    const std::vector<std::string>& extra_args = {}) const;

  // A clean shutdown (SIGTERM); the data stays for start().
  void stop();
  // Starts the stopped server again on the same port and data.
  void start();
  bool running();
  // mariadbd's pid, e.g. to kill it and watch the gateway cope.
  pid_t pid() const { return server_ ? server_->pid() : -1; }

 private:
  std::vector<std::string> install_arguments(const std::filesystem::path& data_dir) const;
  std::filesystem::path template_data_dir();
  void install_data_dir();
  void create_users();
  std::vector<std::string> server_arguments();
  std::filesystem::path install_ssl_file(const std::filesystem::path& source,
                                         std::string_view name);
  ChildOptions as_server_user(std::vector<std::string> argv) const;

  MariadbOptions options_;
  std::optional<ServerUser> user_;
  TempDir root_{"portcullis-mariadb-"};
  std::filesystem::path data_dir_;
  std::filesystem::path socket_path_;
  std::filesystem::path log_file_;
  std::filesystem::path general_log_file_;
  uint16_t port_ = 0;
  std::string version_;
  MariadbUser native_;
  MariadbUser ed25519_;
  MariadbUser readonly_;
  std::optional<ChildProcess> server_;
};

}  // namespace portcullis::testing
