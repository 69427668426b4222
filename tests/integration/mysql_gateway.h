// MysqlGateway: the real `portcullis serve` binary with a mysql listener in front of a test
// MariaDB, with a configuration written for the test, and helpers to issue tokens and run the
// real mariadb client through it. The connection is `shop` (database `app` on the backend):
// `default` credentials are the server's native_user, `readonly` its readonly_user.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/mariadb_server.h"
#include "support/temp_dir.h"

namespace portcullis::testing {

struct MysqlGatewayOptions {
  std::string backend_tls = "disable";  // tls: of the connection
  std::filesystem::path backend_ca_file;
  std::string tls_section;         // a whole `tls:` section, or empty
  std::string limits_section;      // a whole `limits:` section, or empty
  std::string access_section;      // replaces the default (below)
  std::string guardrails_section;  // a whole `guardrails:` section, or empty
  std::string masking_section;     // a whole `masking:` section, or empty
  std::string audit_section;       // a whole `audit:` section, or empty (strict)
  bool http_listener = false;      // `listen.http` on a loopback port (http_port())
  std::string extra_sections;      // whole top-level sections appended (reviews:, api:, ...)
};

// The default access: group `dba` has every class with the default credentials; group
// `engineering` reads with the read-only ones, masked by profile `pii`.
inline constexpr const char* kMysqlDefaultAccess =
    "access:\n"
    "  - name: dba\n"
    "    who: { groups: [dba] }\n"
    "    connections: [shop]\n"
    "    credentials: default\n"
    "    allow: [read, write, ddl, dcl, admin, session, transaction]\n"
    "  - name: engineering\n"
    "    who: { groups: [engineering] }\n"
    "    connections: [shop]\n"
    "    credentials: readonly\n"
    "    allow: [read]\n"
    "    masking: pii\n";

inline constexpr const char* kMysqlDefaultMasking =
    "masking:\n"
    "  profiles:\n"
    "    pii:\n"
    "      detectors: [email, credit_card, us_ssn]\n"
    "      columns:\n"
    "        - { match: \"*.ssn\", action: redact }\n";

class MysqlGateway {
 public:
  MysqlGateway(const MariadbServer& mariadb, MysqlGatewayOptions options = {});
  ~MysqlGateway();

  uint16_t port() const { return port_; }
  uint16_t http_port() const { return http_port_; }
  const std::filesystem::path& config_file() const { return config_file_; }
  ChildProcess& process() { return *process_; }

  // `portcullis --config FILE ARGS...`, with the backend passwords in the environment.
  RunResult cli(std::vector<std::string> args) const;
  // A gateway token for `subject` in `group`.
  std::string token_for(const std::string& subject, const std::string& group) const;

  // The real mariadb client through the gateway (batch mode, no column names), the token as
  // the password; `extra_args` go before the connection name.
  RunResult mariadb(const std::string& user, const std::string& token, const std::string& sql,
                    const std::vector<std::string>& extra_args = {},
                    const std::string& connection = "shop") const;

  void stop();
  void start();
  // Rewrites the configuration, sends SIGHUP and waits until the gateway says it reloaded.
  [[nodiscard]] bool reload(const MysqlGatewayOptions& options);

 private:
  std::string render(const MysqlGatewayOptions& options) const;
  std::map<std::string, std::string> environment() const;

  uint16_t mariadb_port_ = 0;
  std::string rw_user_, ro_user_, ed25519_user_;
  std::map<std::string, std::string> passwords_;
  TempDir dir_{"portcullis-mygw-"};
  std::filesystem::path config_file_;
  uint16_t port_ = 0;
  uint16_t http_port_ = 0;
  std::optional<ChildProcess> process_;
};

}  // namespace portcullis::testing
