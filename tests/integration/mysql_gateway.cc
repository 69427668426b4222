// Starting the gateway binary in front of a test MariaDB.
#include "mysql_gateway.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "gateway_fixture.h"
#include "support/free_port.h"

namespace portcullis::testing {

MysqlGateway::MysqlGateway(const MariadbServer& mariadb, MysqlGatewayOptions options) {
  port_ = free_tcp_port();
  if (options.http_listener) {
    do http_port_ = free_tcp_port();
    while (http_port_ == port_);
  }
  mariadb_port_ = mariadb.port();
  rw_user_ = mariadb.native_user().name;
  ro_user_ = mariadb.readonly_user().name;
  ed25519_user_ = mariadb.ed25519_user().name;
  passwords_ = {{"SHOP_RW_PASSWORD", mariadb.native_user().password},
                {"SHOP_RO_PASSWORD", mariadb.readonly_user().password},
                {"SHOP_ED25519_PASSWORD", mariadb.ed25519_user().password}};
  config_file_ = dir_.path() / "portcullis.yaml";
  std::ofstream(config_file_) << render(options);
  start();
}

MysqlGateway::~MysqlGateway() {
  stop();
}

void MysqlGateway::start() {
  ChildOptions child;
  child.argv = {
      portcullis_binary().string(), "--config", config_file_.string(), "serve", "--threads", "2"};
  child.env = environment();
  process_.emplace(std::move(child));
  if (!process_->wait_for_output("protocol=mysql", std::chrono::seconds(30))) {
    ADD_FAILURE() << "gateway did not start:\n" << process_->stderr_text();
    throw std::runtime_error("gateway did not start");
  }
}

void MysqlGateway::stop() {
  if (process_) {
    process_->terminate();
    process_.reset();
  }
}

std::map<std::string, std::string> MysqlGateway::environment() const {
  return passwords_;
}

std::string MysqlGateway::render(const MysqlGatewayOptions& options) const {
  const std::string ca_line =
      options.backend_ca_file.empty()
          ? std::string()
          : fmt::format("    tls_ca_file: {}\n", options.backend_ca_file.string());
  std::string audit = options.audit_section.empty() ? "audit:\n" : options.audit_section;
  if (audit.find("segment_size") == std::string::npos) audit += "  segment_size: 256KiB\n";
  return fmt::format(
      "listen:\n"
      "  mysql: 127.0.0.1:{port}\n"
      "{http}"
      "{tls}"
      "{limits}"
      "state:\n"
      "  url: sqlite://state/portcullis.db\n"
      "identity:\n"
      "  signing_key_file: state/signing.key\n"
      "connections:\n"
      "  - name: shop\n"
      "    kind: mysql\n"
      "    address: 127.0.0.1:{backend}\n"
      "    database: app\n"
      "    tls: {backend_tls}\n"
      "{ca}"
      "    credentials:\n"
      "      default: {{ user: {rw}, password_env: SHOP_RW_PASSWORD }}\n"
      "      readonly: {{ user: {ro}, password_env: SHOP_RO_PASSWORD }}\n"
      "      ed25519: {{ user: {ed}, password_env: SHOP_ED25519_PASSWORD }}\n"
      "{access}"
      "{guardrails}"
      "{masking}"
      "{audit}"
      "{extra}",
      fmt::arg("port", port_),
      fmt::arg("http", options.http_listener ? fmt::format("  http: 127.0.0.1:{}\n", http_port_)
                                             : std::string()),
      fmt::arg("tls", options.tls_section), fmt::arg("limits", options.limits_section),
      fmt::arg("backend", mariadb_port_), fmt::arg("backend_tls", options.backend_tls),
      fmt::arg("ca", ca_line), fmt::arg("rw", rw_user_), fmt::arg("ro", ro_user_),
      fmt::arg("ed", ed25519_user_),
      fmt::arg("access",
               options.access_section.empty() ? kMysqlDefaultAccess : options.access_section),
      fmt::arg("guardrails", options.guardrails_section),
      fmt::arg("masking",
               options.masking_section.empty() ? kMysqlDefaultMasking : options.masking_section),
      fmt::arg("audit", audit), fmt::arg("extra", options.extra_sections));
}

RunResult MysqlGateway::cli(std::vector<std::string> args) const {
  ChildOptions child;
  child.argv = {portcullis_binary().string(), "--config", config_file_.string()};
  child.argv.insert(child.argv.end(), args.begin(), args.end());
  child.env = environment();
  return run_command(std::move(child), std::chrono::seconds(60));
}

std::string MysqlGateway::token_for(const std::string& subject, const std::string& group) const {
  auto result = cli({"token", "issue", "--subject", subject, "--group", group});
  EXPECT_TRUE(result.ok()) << result.describe();
  auto token = result.stdout_text;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  return token;
}

RunResult MysqlGateway::mariadb(const std::string& user, const std::string& token,
                                const std::string& sql, const std::vector<std::string>& extra_args,
                                const std::string& connection) const {
  ChildOptions options;
  options.argv = {mariadb_bin("mariadb").string(),
                  "--no-defaults",
                  "--batch",
                  "--skip-column-names",
                  "--protocol=TCP",
                  "--host=127.0.0.1",
                  "--port=" + std::to_string(port_),
                  "--user=" + user,
                  "--connect-timeout=10"};
  options.argv.insert(options.argv.end(), extra_args.begin(), extra_args.end());
  options.argv.push_back(connection);
  // The token in the environment, not on the command line, where ps shows it.
  options.env = {{"MYSQL_PWD", token}};
  options.stdin_data = sql;
  return run_command(std::move(options), std::chrono::seconds(60));
}

bool MysqlGateway::reload(const MysqlGatewayOptions& options) {
  const auto count = [this] {
    const auto log = process_->stderr_text();
    std::size_t n = 0;
    for (auto at = log.find("event=reloaded"); at != std::string::npos;
         at = log.find("event=reloaded", at + 1))
      ++n;
    return n;
  };
  const auto before = count();
  std::ofstream(config_file_) << render(options);
  process_->send_signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (count() > before) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace portcullis::testing
