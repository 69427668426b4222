// GatewayProcess: the real `portcullis serve` binary in front of a test PostgreSQL, with a
// configuration written for the test, and helpers to issue tokens and run clients through it.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace portcullis::testing {

struct GatewayOptions {
  std::string backend_tls = "disable";  // tls: of every connection
  std::filesystem::path backend_ca_file;
  std::string tls_section;     // a whole `tls:` section, or empty
  std::string identity_extra;  // lines added under `identity:` (indented two spaces)
  std::string limits_section;  // a whole `limits:` section, or empty
  // Replaces the default `access:` section (group testers: every class on every connection).
  std::string access_section;
  std::string guardrails_section;  // a whole `guardrails:` section, or empty
  std::string audit_section;       // a whole `audit:` section, or empty (strict, the default)
  bool http_listener = false;      // `listen.http` on a loopback port of its own (http_port())
  std::string api_section;         // a whole `api:` section, or empty
  std::string extra_sections;      // whole top-level sections appended (reviews:, ...)
  // `state.url`; empty: sqlite://state/portcullis.db beside the configuration. Instances
  // sharing one store name the same postgresql:// URL.
  std::string state_url;
  // The top-level `instance:` name; empty: the key is left out.
  std::string instance;
  // `identity.signing_key_file`; empty: state/signing.key beside the configuration. Instances
  // that must accept each other's tokens name the same file.
  std::filesystem::path signing_key_file;
};

class GatewayProcess {
 public:
  GatewayProcess(const PostgresServer& postgres, GatewayOptions options = {});
  ~GatewayProcess();

  uint16_t port() const { return port_; }
  // The REST API's port; 0 unless the options asked for an HTTP listener.
  uint16_t http_port() const { return http_port_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::filesystem::path& config_file() const { return config_file_; }
  ChildProcess& process() { return *process_; }

  // `portcullis --config FILE ARGS...`, with the backend passwords in the environment.
  RunResult cli(std::vector<std::string> args) const;
  // A gateway token for `subject` in group "testers" plus `groups`.
  std::string issue_token(const std::string& subject, std::vector<std::string> groups = {}) const;
  // A gateway token for `subject` in `group` alone.
  std::string token_for(const std::string& subject, const std::string& group) const;

  // libpq connection string to connection `dbname` through the gateway.
  std::string conninfo(const std::string& user, const std::string& password,
                       const std::string& dbname = "app-db", const std::string& extra = {}) const;
  // psql through the gateway: -X -A -t -v ON_ERROR_STOP=1 plus `args`.
  RunResult psql(const std::string& user, const std::string& password,
                 std::vector<std::string> args, const std::string& dbname = "app-db",
                 const std::string& extra = {}, std::optional<std::string> stdin_data = {}) const;

  void stop();
  // Starts the gateway again with the same configuration and state (after stop() or a kill).
  void start();
  // The journal and the rest of the gateway's state: sqlite://.../state/portcullis.db, or the
  // URL the options named.
  std::string state_url() const;
  // Rewrites the configuration file with `options`, sends SIGHUP and waits (up to 20 s) until
  // the gateway logs that it reloaded. False if it did not, or refused the file.
  [[nodiscard]] bool reload(const GatewayOptions& options);
  // Rewrites the configuration file with `options` and nothing more: a reload asked some
  // other way (POST /api/v1/reload, another instance) reads it.
  void rewrite_config(const GatewayOptions& options);
  // How often the gateway has logged that it reloaded.
  std::size_t reloads() const;

 private:
  std::map<std::string, std::string> environment() const;
  std::string render(const GatewayOptions& options) const;

  uint16_t postgres_port_ = 0;
  std::string scram_user_, md5_user_, trust_user_;

  TempDir dir_{"portcullis-gw-"};
  std::filesystem::path config_file_;
  uint16_t port_ = 0;
  uint16_t http_port_ = 0;
  std::string state_url_override_;
  std::map<std::string, std::string> passwords_;
  std::optional<ChildProcess> process_;
};

// Path of the portcullis binary under test.
std::filesystem::path portcullis_binary();

// What the front ends' fixtures share, for a gateway started with `config_file`:
// `portcullis --config FILE ARGS...`;
RunResult portcullis_cli(const std::filesystem::path& config_file, std::vector<std::string> args);
// a gateway token for `subject` in `group` alone;
std::string gateway_token(const std::filesystem::path& config_file, const std::string& subject,
                          const std::string& group);
// the journal's statements as JSON lines (`audit search --json`), once one holds `awaited` (or
// after 15 s: outcomes are recorded after the command ends, and committed shortly after).
std::string journal_statements(const std::filesystem::path& config_file,
                               const std::string& awaited);

}  // namespace portcullis::testing
