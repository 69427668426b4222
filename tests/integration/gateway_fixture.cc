// Starting the gateway binary for end-to-end tests.
#include "gateway_fixture.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>
#include <utility>

#include "support/free_port.h"

namespace portcullis::testing {

std::filesystem::path portcullis_binary() {
  return PORTCULLIS_BINARY;
}

RunResult portcullis_cli(const std::filesystem::path& config_file, std::vector<std::string> args) {
  ChildOptions child;
  child.argv = {portcullis_binary().string(), "--config", config_file.string()};
  child.argv.insert(child.argv.end(), args.begin(), args.end());
  return run_command(std::move(child), std::chrono::seconds(60));
}

std::string gateway_token(const std::filesystem::path& config_file, const std::string& subject,
                          const std::string& group) {
  auto result =
      portcullis_cli(config_file, {"token", "issue", "--subject", subject, "--group", group});
  EXPECT_TRUE(result.ok()) << result.describe();
  auto token = result.stdout_text;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  return token;
}

std::string journal_statements(const std::filesystem::path& config_file,
                               const std::string& awaited) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (;;) {
    auto result = portcullis_cli(config_file, {"audit", "search", "--json", "--limit", "0"});
    EXPECT_TRUE(result.ok()) << result.describe();
    if (awaited.empty() || result.stdout_text.find(awaited) != std::string::npos ||
        std::chrono::steady_clock::now() > deadline)
      return result.stdout_text;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

GatewayProcess::GatewayProcess(const PostgresServer& postgres, GatewayOptions options) {
  port_ = free_tcp_port();
  if (options.http_listener) {
    do http_port_ = free_tcp_port();
    while (http_port_ == port_);
  }
  postgres_port_ = postgres.port();
  scram_user_ = postgres.scram_role().name;
  md5_user_ = postgres.md5_role().name;
  trust_user_ = postgres.trust_role().name;
  passwords_ = {{"PG_SCRAM_PASSWORD", postgres.scram_role().password},
                {"PG_MD5_PASSWORD", postgres.md5_role().password}};
  state_url_override_ = options.state_url;
  config_file_ = dir_.path() / "portcullis.yaml";
  std::ofstream(config_file_) << render(options);
  start();
}

void GatewayProcess::start() {
  ChildOptions child;
  child.argv = {
      portcullis_binary().string(), "--config", config_file_.string(), "serve", "--threads", "2"};
  child.env = environment();
  process_.emplace(std::move(child));
  if (!process_->wait_for_output("event=listening", std::chrono::seconds(30))) {
    ADD_FAILURE() << "gateway did not start:\n" << process_->stderr_text();
    throw std::runtime_error("gateway did not start");
  }
}

GatewayProcess::~GatewayProcess() {
  stop();
}

namespace {

// The test's audit section, with small journal segments: each gateway started preallocates
// two, and a test run starts hundreds of gateways.
std::string audit_section(const std::string& section) {
  constexpr std::string_view kSegments = "  segment_size: 256KiB\n";
  if (section.empty()) return "audit:\n" + std::string(kSegments);
  if (section.find("segment_size") != std::string::npos) return section;
  return section + std::string(kSegments);
}

}  // namespace

std::string GatewayProcess::render(const GatewayOptions& options) const {
  const std::string ca_line =
      options.backend_ca_file.empty()
          ? std::string()
          : fmt::format("    tls_ca_file: {}\n", options.backend_ca_file.string());
  auto connection = [&](std::string_view name, std::string_view user,
                        std::string_view password_env) {
    const std::string credentials =
        password_env.empty() ? fmt::format("{{ user: {} }}", user)
                             : fmt::format("{{ user: {}, password_env: {} }}", user, password_env);
    return fmt::format(
        "  - name: {}\n"
        "    kind: postgres\n"
        "    address: 127.0.0.1:{}\n"
        "    database: app\n"
        "    tls: {}\n"
        "{}"
        "    credentials:\n"
        "      default: {}\n"
        "      readonly: {}\n",
        name, postgres_port_, options.backend_tls, ca_line, credentials, credentials);
  };
  const std::string access = !options.access_section.empty()
                                 ? options.access_section
                                 : "access:\n"
                                   "  - name: testers\n"
                                   "    who: { groups: [testers] }\n"
                                   "    connections: [app-db, md5-db, trust-db]\n"
                                   "    credentials: default\n"
                                   "    allow: [read, write, ddl, dcl, admin]\n";
  return fmt::format(
      "{instance}"
      "listen:\n"
      "  postgres: 127.0.0.1:{port}\n"
      "{http}"
      "{tls}"
      "{limits}"
      "state:\n"
      "  url: {state_url}\n"
      "identity:\n"
      "  signing_key_file: {signing_key_file}\n"
      "{identity}"
      "connections:\n"
      "{scram}{md5}{trust}"
      "{access}"
      "{guardrails}"
      "{audit}"
      "{api}"
      "{extra}",
      fmt::arg("instance", options.instance.empty()
                               ? std::string()
                               : fmt::format("instance: {}\n", options.instance)),
      fmt::arg("state_url",
               options.state_url.empty() ? "sqlite://state/portcullis.db" : options.state_url),
      fmt::arg("signing_key_file", options.signing_key_file.empty()
                                       ? std::string("state/signing.key")
                                       : options.signing_key_file.string()),
      fmt::arg("port", port_),
      fmt::arg("http", options.http_listener && http_port_ != 0
                           ? fmt::format("  http: 127.0.0.1:{}\n", http_port_)
                           : std::string()),
      fmt::arg("tls", options.tls_section), fmt::arg("limits", options.limits_section),
      fmt::arg("identity", options.identity_extra),
      fmt::arg("scram", connection("app-db", scram_user_, "PG_SCRAM_PASSWORD")),
      fmt::arg("md5", connection("md5-db", md5_user_, "PG_MD5_PASSWORD")),
      fmt::arg("trust", connection("trust-db", trust_user_, "")), fmt::arg("access", access),
      fmt::arg("guardrails", options.guardrails_section),
      fmt::arg("audit", audit_section(options.audit_section)), fmt::arg("api", options.api_section),
      fmt::arg("extra", options.extra_sections));
}

namespace {

std::size_t occurrences(const std::string& text, std::string_view what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

}  // namespace

bool GatewayProcess::reload(const GatewayOptions& options) {
  const auto answers = [this] {
    const auto log = process_->stderr_text();
    return std::pair(occurrences(log, "event=reloaded"), occurrences(log, "event=reload_failed"));
  };
  const auto before = answers();
  std::ofstream(config_file_) << render(options);
  process_->send_signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto now = answers();
    if (now.second > before.second) return false;
    if (now.first > before.first) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void GatewayProcess::rewrite_config(const GatewayOptions& options) {
  std::ofstream(config_file_) << render(options);
}

std::size_t GatewayProcess::reloads() const {
  return occurrences(process_->stderr_text(), "event=reloaded");
}

std::string GatewayProcess::state_url() const {
  if (!state_url_override_.empty()) return state_url_override_;
  return "sqlite://" + (dir_.path() / "state" / "portcullis.db").string();
}

void GatewayProcess::stop() {
  if (process_ && process_->running()) process_->terminate(std::chrono::seconds(10));
}

std::map<std::string, std::string> GatewayProcess::environment() const {
  auto env = passwords_;
  env["PORTCULLIS_LOG_LEVEL"] = "info";
  return env;
}

RunResult GatewayProcess::cli(std::vector<std::string> args) const {
  ChildOptions child;
  child.argv = {portcullis_binary().string(), "--config", config_file_.string()};
  child.argv.insert(child.argv.end(), args.begin(), args.end());
  child.env = environment();
  return run_command(std::move(child), std::chrono::seconds(60));
}

std::string GatewayProcess::issue_token(const std::string& subject,
                                        std::vector<std::string> groups) const {
  groups.insert(groups.begin(), "testers");
  std::vector<std::string> args = {"token", "issue", "--subject", subject};
  for (auto& g : groups) {
    args.push_back("--group");
    args.push_back(g);
  }
  auto result = cli(args);
  EXPECT_TRUE(result.ok()) << result.describe();
  auto token = result.stdout_text;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  return token;
}

std::string GatewayProcess::token_for(const std::string& subject, const std::string& group) const {
  auto result = cli({"token", "issue", "--subject", subject, "--group", group});
  EXPECT_TRUE(result.ok()) << result.describe();
  auto token = result.stdout_text;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  return token;
}

std::string GatewayProcess::conninfo(const std::string& user, const std::string& password,
                                     const std::string& dbname, const std::string& extra) const {
  std::string out = fmt::format("host=127.0.0.1 port={} user={} dbname={} connect_timeout=10",
                                port_, user, dbname);
  if (!password.empty()) out += fmt::format(" password='{}'", password);
  if (!extra.empty()) out += " " + extra;
  return out;
}

RunResult GatewayProcess::psql(const std::string& user, const std::string& password,
                               std::vector<std::string> args, const std::string& dbname,
                               const std::string& extra,
                               std::optional<std::string> stdin_data) const {
  ChildOptions child;
  child.argv = {pg_bin("psql").string(),          "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                conninfo(user, "", dbname, extra)};
  child.argv.insert(child.argv.end(), args.begin(), args.end());
  child.env = {{"PGPASSWORD", password}, {"PGCONNECT_TIMEOUT", "10"}};
  child.unset_env = {"PGSSLMODE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"};
  child.working_dir = dir_.path();
  child.stdin_data = std::move(stdin_data);
  return run_command(std::move(child), std::chrono::seconds(120));
}

}  // namespace portcullis::testing
