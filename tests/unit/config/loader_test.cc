// Loading portcullis.yaml: the documented example, every kind of problem with its line, and
// the rules for relative paths and secrets.
#include "config/loader.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "config/front_ends.h"
#include "masking/config_vocabulary.h"

namespace portcullis::config {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The configuration example of INTERFACE.md, verbatim.
constexpr std::string_view kInterfaceExample = R"yaml(listen:
  postgres: 127.0.0.1:15432
  http: 127.0.0.1:18080            # REST API, web console, /metrics
tls:                                # client-facing; required for non-loopback listeners
  cert_file: certs/gateway.crt
  key_file: certs/gateway.key
state:
  url: sqlite://var/portcullis.db   # embedded default; postgresql://… for several instances
identity:
  signing_key_file: var/signing.key # Ed25519; created on first start if missing
  oidc:                             # optional, any number
    - issuer: https://idp.example.com/
      audience: portcullis
      jwks_file: idp-jwks.json      # or jwks_url
      groups_claim: groups
api:
  admin_groups: [platform-admins]
  auditor_groups: [security]

connections:
  - name: app-db
    kind: postgres
    address: 127.0.0.1:5432
    database: app
    tls: prefer                     # disable | prefer | require | verify-full
    credentials:
      default:  { user: app_rw, password_env: APP_DB_PASSWORD }
      readonly: { user: app_ro, password_env: APP_DB_RO_PASSWORD }

access:                             # who may use which connection, and how
  - name: engineers-read
    who: { groups: [engineering] }
    connections: [app-db]
    credentials: readonly
    allow: [read]                   # statement classes, see below
    masking: default
  - name: dba
    who: { groups: [dba] }
    connections: [app-db]
    credentials: default
    allow: [read, write, ddl, admin]
    masking: none

guardrails:                         # checked in order for every command; first match decides
  - name: no-drops
    when: { statements: [drop_table, drop_database, drop_schema, truncate] }
    action: deny                    # deny | review | allow
    message: dropping or truncating tables is not allowed through the gateway
  - name: unbounded-writes-need-approval
    when: { statements: [delete, update], where: absent }
    action: review
    reviewers: { groups: [dba] }
    wait: 120s                      # how long the caller's statement is held
  - name: no-server-files
    when: { functions: [pg_read_file, pg_read_binary_file, pg_ls_dir, lo_import, lo_export], statements: [copy_program] }
    action: deny

masking:
  profiles:
    default:
      detectors: [email, credit_card, us_ssn, phone, iban, ipv4, aws_access_key, jwt, private_key]
      columns:
        - { match: "*.password*", action: redact }
        - { match: "*.ssn", action: redact }
    none: {}

audit:
  durability: strict                # strict: a command is forwarded only after its event is on disk
  record_results: { max_rows: 1000, max_bytes: 1MiB }   # masked rows kept per statement
  checkpoint_every: 1000            # signed checkpoint every N events (and at shutdown)
  exporters:
    - { kind: jsonl, path: var/audit.jsonl }
)yaml";

// The smallest useful file; tests append to it. Line 2 is the connection's first line.
constexpr std::string_view kOneConnection = R"yaml(connections:
  - name: db
    address: 127.0.0.1:5432
    database: app
    credentials:
      default: { user: app }
)yaml";

::testing::AssertionResult has_line(const std::string& text, const std::string& expected) {
  if (text.find(expected) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << expected << "\" not found in:\n" << text;
}

class ConfigLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "portcullis-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    file_ = (dir_ / "cfg.yaml").string();
  }
  void TearDown() override {
    for (const char* name : {"APP_DB_PASSWORD", "APP_DB_RO_PASSWORD", "PORTCULLIS_TEST_PW"}) {
      unsetenv(name);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void write(const fs::path& relative, std::string_view text) {
    const fs::path path = dir_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }

  Result<ConfigPtr> parse(std::string_view yaml) {
    return parse_config(yaml, file_, masking::config_vocabulary());
  }

  // The error report for a text that must fail to load.
  std::string problems(std::string_view yaml) {
    auto result = parse(yaml);
    EXPECT_FALSE(result.ok()) << "loaded without problems:\n" << yaml;
    return result.ok() ? std::string() : result.error().message;
  }

  std::string at(int line) const { return file_ + ":" + std::to_string(line) + ": "; }

  void write_example_files() {
    write("certs/gateway.crt", "cert");
    write("certs/gateway.key", "key");
    write("idp-jwks.json", "{\"keys\": []}");
    setenv("APP_DB_PASSWORD", "rw-password-value", 1);
    setenv("APP_DB_RO_PASSWORD", "ro-password-value", 1);
  }

  fs::path dir_;
  std::string file_;
};

TEST_F(ConfigLoaderTest, LoadsTheInterfaceExample) {
  write_example_files();
  write("portcullis.yaml", kInterfaceExample);
  auto result = load_config(dir_ / "portcullis.yaml", masking::config_vocabulary());
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Config& c = **result;

  EXPECT_EQ(c.source_file, dir_ / "portcullis.yaml");
  ASSERT_TRUE(c.listen.find("postgres") && c.listen.http);
  EXPECT_EQ(c.listen.find("postgres")->host, "127.0.0.1");
  EXPECT_EQ(c.listen.find("postgres")->port, 15432);
  EXPECT_EQ(c.listen.http->port, 18080);
  ASSERT_TRUE(c.tls);
  EXPECT_EQ(c.tls->cert_file, dir_ / "certs/gateway.crt");
  EXPECT_EQ(c.tls->key_file, dir_ / "certs/gateway.key");
  EXPECT_EQ(c.tls->plaintext, PlaintextPolicy::loopback);
  EXPECT_EQ(c.state_url, "sqlite://" + (dir_ / "var/portcullis.db").string());
  EXPECT_EQ(c.identity.signing_key_file, dir_ / "var/signing.key");
  ASSERT_EQ(c.identity.oidc.size(), 1u);
  EXPECT_EQ(c.identity.oidc[0].issuer, "https://idp.example.com/");
  EXPECT_EQ(c.identity.oidc[0].audience, "portcullis");
  EXPECT_EQ(c.identity.oidc[0].jwks_file, dir_ / "idp-jwks.json");
  EXPECT_EQ(c.identity.oidc[0].groups_claim, "groups");
  EXPECT_EQ(c.api.admin_groups, std::vector<std::string>{"platform-admins"});
  EXPECT_EQ(c.api.auditor_groups, std::vector<std::string>{"security"});

  ASSERT_EQ(c.connections.size(), 1u);
  const ConnectionConfig& db = c.connections[0];
  EXPECT_EQ(db.name, "app-db");
  EXPECT_EQ(db.kind, ConnectionKind::postgres);
  EXPECT_EQ(db.target.address.host, "127.0.0.1");
  EXPECT_EQ(db.target.address.port, 5432);
  EXPECT_EQ(db.target.database, "app");
  EXPECT_EQ(db.target.tls, BackendTlsMode::prefer);
  EXPECT_EQ(db.line, 21);
  ASSERT_EQ(db.credentials.size(), 2u);
  EXPECT_EQ(db.credentials.at("default").user, "app_rw");
  EXPECT_EQ(db.credentials.at("default").password.reveal(), "rw-password-value");
  EXPECT_EQ(db.credentials.at("default").password_env, "APP_DB_PASSWORD");
  EXPECT_EQ(db.credentials.at("readonly").user, "app_ro");
  EXPECT_EQ(db.credentials.at("readonly").password.reveal(), "ro-password-value");
  EXPECT_EQ(c.find_connection("app-db"), &db);

  ASSERT_EQ(c.access.size(), 2u);
  EXPECT_EQ(c.access[0].name, "engineers-read");
  EXPECT_EQ(c.access[0].who.groups, std::vector<std::string>{"engineering"});
  EXPECT_EQ(c.access[0].connections, std::vector<std::string>{"app-db"});
  EXPECT_EQ(c.access[0].credentials, "readonly");
  EXPECT_EQ(c.access[0].allow, std::vector<std::string>{"read"});
  EXPECT_EQ(c.access[0].masking, "default");
  EXPECT_EQ(c.access[1].allow, (std::vector<std::string>{"read", "write", "ddl", "admin"}));
  EXPECT_EQ(c.access[1].masking, "none");

  ASSERT_EQ(c.guardrails.size(), 3u);
  EXPECT_EQ(c.guardrails[0].name, "no-drops");
  EXPECT_EQ(c.guardrails[0].action, GuardrailAction::deny);
  EXPECT_EQ(c.guardrails[0].when.statements,
            (std::vector<std::string>{"drop_table", "drop_database", "drop_schema", "truncate"}));
  EXPECT_EQ(c.guardrails[0].message,
            "dropping or truncating tables is not allowed through the gateway");
  EXPECT_EQ(c.guardrails[1].action, GuardrailAction::review);
  EXPECT_EQ(c.guardrails[1].when.where, WhereCondition::absent);
  EXPECT_EQ(c.guardrails[1].reviewers.groups, std::vector<std::string>{"dba"});
  EXPECT_EQ(c.guardrails[1].wait, 120s);
  EXPECT_EQ(c.guardrails[2].when.functions.size(), 5u);
  EXPECT_EQ(c.guardrails[2].when.statements, std::vector<std::string>{"copy_program"});

  ASSERT_EQ(c.masking.profiles.size(), 2u);
  const MaskingProfileConfig* masking = c.find_masking_profile("default");
  ASSERT_NE(masking, nullptr);
  EXPECT_EQ(masking->detectors.size(), 9u);
  ASSERT_EQ(masking->columns.size(), 2u);
  EXPECT_EQ(masking->columns[0].match, "*.password*");
  EXPECT_EQ(masking->columns[0].action, "redact");
  ASSERT_NE(c.find_masking_profile("none"), nullptr);
  EXPECT_TRUE(c.find_masking_profile("none")->detectors.empty());

  EXPECT_EQ(c.audit.durability, AuditDurability::strict);
  EXPECT_EQ(c.audit.record_results.max_rows, 1000u);
  EXPECT_EQ(c.audit.record_results.max_bytes, 1u << 20);
  EXPECT_EQ(c.audit.checkpoint_every, 1000u);
  ASSERT_EQ(c.audit.exporters.size(), 1u);
  EXPECT_EQ(c.audit.exporters[0].kind, "jsonl");
  EXPECT_EQ(c.audit.exporters[0].path, dir_ / "var/audit.jsonl");
}

TEST_F(ConfigLoaderTest, AppliesDefaultsToAnEmptyFile) {
  auto result = parse("# nothing configured yet\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Config& c = **result;
  ASSERT_TRUE(c.listen.find("postgres"));
  EXPECT_EQ(c.listen.find("postgres")->host, "127.0.0.1");
  EXPECT_EQ(c.listen.find("postgres")->port, 15432);
  EXPECT_FALSE(c.listen.http);
  EXPECT_FALSE(c.tls);
  EXPECT_EQ(c.state_url, "sqlite://" + (dir_ / "var/portcullis.db").string());
  EXPECT_EQ(c.identity.signing_key_file, dir_ / "var/signing.key");
  EXPECT_EQ(c.limits.max_startup_packet, 10000u);
  EXPECT_EQ(c.audit.durability, AuditDurability::strict);
  EXPECT_TRUE(c.connections.empty());
}

TEST_F(ConfigLoaderTest, DefaultsThePostgresListenerWhenOnlyHttpIsGiven) {
  auto result = parse("listen:\n  http: 127.0.0.1:18080\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_TRUE((*result)->listen.find("postgres"));
  EXPECT_EQ((*result)->listen.find("postgres")->port, 15432);
}

TEST_F(ConfigLoaderTest, ReadsLimitsPlaintextLockdownAndWhoSubjects) {
  write("ca.pem", "ca");
  auto result = parse(R"yaml(listen: { postgres: "0.0.0.0:6432" }
tls: { cert_file: ca.pem, key_file: ca.pem, plaintext: allow }
limits:
  max_startup_packet: 8KiB
  max_message_size: 16MiB
  max_statement_size: 64KiB
  handshake_timeout: 5s
  idle_timeout: 8h
  max_connections: 500
connections:
  - name: db
    address: "[::1]:5432"
    database: app
    tls: verify-full
    tls_ca_file: ca.pem
    lockdown: true
    credentials: { default: { user: app } }
access:
  - name: ci
    who: { subjects: [ci-bot], kinds: [service] }
    connections: [db]
)yaml");
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Config& c = **result;
  EXPECT_EQ(c.tls->plaintext, PlaintextPolicy::allow);
  EXPECT_EQ(c.limits.max_startup_packet, 8192u);
  EXPECT_EQ(c.limits.max_message_size, 16u << 20);
  EXPECT_EQ(c.limits.max_statement_size, 64u << 10);
  EXPECT_EQ(c.limits.handshake_timeout, 5s);
  EXPECT_EQ(c.limits.idle_timeout, 8h);
  EXPECT_EQ(c.limits.max_connections, 500u);
  EXPECT_EQ(c.connections[0].target.address.host, "::1");
  EXPECT_EQ(c.connections[0].target.tls, BackendTlsMode::verify_full);
  EXPECT_EQ(c.connections[0].target.tls_ca_file, dir_ / "ca.pem");
  EXPECT_TRUE(c.connections[0].lockdown);
  EXPECT_TRUE(c.connections[0].credentials.at("default").password.empty());
  EXPECT_EQ(c.access[0].who.subjects, std::vector<std::string>{"ci-bot"});
  EXPECT_EQ(c.access[0].who.kinds, std::vector<std::string>{"service"});
  EXPECT_EQ(c.access[0].credentials, "default");
}

TEST_F(ConfigLoaderTest, ReportsUnknownKeyAtItsLine) {
  std::string yaml(kOneConnection);
  yaml.insert(yaml.find("    database"), "    foo: 1\n");
  EXPECT_TRUE(has_line(problems(yaml), at(4) + "unknown key \"foo\" in connections[0]"));
}

TEST_F(ConfigLoaderTest, ReportsUnknownKeysAtEveryLevel) {
  const std::string report = problems(R"yaml(listne: {}
audit:
  record_results: { max_rows: 10, max_row: 5 }
connections:
  - name: db
    address: 127.0.0.1:5432
    database: app
    credentials:
      default: { user: app, pasword_env: X }
)yaml");
  EXPECT_TRUE(has_line(report, at(1) + "unknown key \"listne\" in the top level"));
  EXPECT_TRUE(has_line(report, at(3) + "unknown key \"max_row\" in audit.record_results"));
  EXPECT_TRUE(has_line(
      report, at(9) + "unknown key \"pasword_env\" in connections[0].credentials.default"));
}

TEST_F(ConfigLoaderTest, ReportsDuplicateKeys) {
  std::string yaml(kOneConnection);
  yaml.insert(yaml.find("    database"), "    name: again\n");
  EXPECT_TRUE(has_line(problems(yaml), at(4) + "duplicate key \"name\" in connections[0]"));
}

TEST_F(ConfigLoaderTest, ReportsPortThatIsNotANumber) {
  std::string yaml(kOneConnection);
  yaml.replace(yaml.find("5432"), 4, "pg");
  EXPECT_TRUE(
      has_line(problems(yaml), at(3) + "connections[0].address: the port must be a number"));
}

TEST_F(ConfigLoaderTest, ReportsPortOutOfRange) {
  for (const char* port : {"0", "65536", "99999"}) {
    std::string yaml(kOneConnection);
    yaml.replace(yaml.find("5432"), 4, port);
    EXPECT_TRUE(has_line(problems(yaml),
                         at(3) + "connections[0].address: the port must be between 1 and 65535"));
  }
}

TEST_F(ConfigLoaderTest, RequiresBracketsAroundIpv6Addresses) {
  std::string yaml(kOneConnection);
  yaml.replace(yaml.find("127.0.0.1:5432"), 14, "::1:5432");
  EXPECT_TRUE(has_line(problems(yaml), at(3) + "connections[0].address: an IPv6 address must be "
                                               "written in brackets, as [::1]:5432"));
}

TEST_F(ConfigLoaderTest, ReportsAddressWithoutPort) {
  std::string yaml(kOneConnection);
  yaml.replace(yaml.find("127.0.0.1:5432"), 14, "db.internal");
  EXPECT_TRUE(has_line(problems(yaml), at(3) + "connections[0].address: expected HOST:PORT"));
}

TEST_F(ConfigLoaderTest, ReportsScalarWhereAListIsExpected) {
  std::string yaml(kOneConnection);
  yaml += "access:\n  - name: r\n    who: { groups: [eng] }\n    connections: db\n";
  EXPECT_TRUE(
      has_line(problems(yaml), at(10) + "access[0].connections: expected a list, got a string"));
}

TEST_F(ConfigLoaderTest, ReportsBadDuration) {
  const std::string report =
      problems("limits:\n  handshake_timeout: 30\n  idle_timeout: 2 weeks\n");
  EXPECT_TRUE(has_line(report, at(2) + "limits.handshake_timeout: expected a duration"));
  EXPECT_TRUE(has_line(report, at(3) + "limits.idle_timeout: expected a duration"));
}

TEST_F(ConfigLoaderTest, ReportsBadSize) {
  EXPECT_TRUE(has_line(problems("limits:\n\n  max_message_size: 1MB\n"),
                       at(3) + "limits.max_message_size: expected a size"));
}

TEST_F(ConfigLoaderTest, RefusesAMessageSizeAboveOneGibibyte) {
  const auto report = problems("limits:\n  max_message_size: 2GiB\n  max_buffered_total: 4GiB\n");
  EXPECT_NE(report.find("limits.max_message_size must be at most 1GiB"), std::string::npos)
      << report;
}

TEST_F(ConfigLoaderTest, ReportsBadEnumValueWithTheAllowedValues) {
  std::string yaml(kOneConnection);
  yaml.insert(yaml.find("    credentials"), "    tls: maybe\n");
  EXPECT_TRUE(has_line(problems(yaml), at(5) +
                                           "connections[0].tls: unknown value \"maybe\" "
                                           "(expected disable, prefer, require or verify-full)"));
}

TEST_F(ConfigLoaderTest, ReportsUnknownStatementClass) {
  std::string yaml(kOneConnection);
  yaml +=
      "access:\n  - name: r\n    who: { groups: [eng] }\n    connections: [db]\n"
      "    allow: [read, wirte]\n";
  EXPECT_TRUE(has_line(problems(yaml), at(11) + "access[0].allow[1]: unknown value \"wirte\""));
}

TEST_F(ConfigLoaderTest, ReportsMissingRequiredConnectionKeysAtTheItem) {
  const std::string report = problems("connections:\n  - kind: postgres\n");
  EXPECT_TRUE(has_line(report, at(2) + "connections[0]: missing required key \"name\""));
  EXPECT_TRUE(has_line(report, at(2) + "connections[0]: missing required key \"address\""));
  EXPECT_TRUE(has_line(report, at(2) + "connections[0]: missing required key \"database\""));
}

TEST_F(ConfigLoaderTest, ReportsMissingRequiredAccessKeys) {
  std::string yaml(kOneConnection);
  yaml += "access:\n  - who: { groups: [eng] }\n";
  const std::string report = problems(yaml);
  EXPECT_TRUE(has_line(report, at(8) + "access[0]: missing required key \"name\""));
  EXPECT_TRUE(has_line(report, at(8) + "access[0]: missing required key \"connections\""));
}

TEST_F(ConfigLoaderTest, RequiresAccessRuleToSayWhoItIsFor) {
  std::string yaml(kOneConnection);
  yaml +=
      "access:\n  - name: r\n    connections: [db]\n  - name: s\n    who: {}\n"
      "    connections: [db]\n";
  const std::string report = problems(yaml);
  EXPECT_TRUE(has_line(report, at(8) + "access[0]: missing required key \"who\""));
  EXPECT_TRUE(has_line(report, at(11) + "access[1].who: name at least one of groups, subjects"));
}

TEST_F(ConfigLoaderTest, ReportsDuplicateConnectionNames) {
  std::string yaml(kOneConnection);
  yaml += "  - name: db\n    address: 127.0.0.1:5433\n    database: other\n";
  EXPECT_TRUE(has_line(problems(yaml), at(7) + "connections[1]: connection name \"db\" is already "
                                               "used at line 2"));
}

TEST_F(ConfigLoaderTest, ReportsDuplicateRuleNamesAcrossAccessAndGuardrails) {
  std::string yaml(kOneConnection);
  yaml += R"yaml(access:
  - { name: r, who: { groups: [a] }, connections: [db] }
  - { name: r, who: { groups: [b] }, connections: [db] }
guardrails:
  - { name: r, when: {}, action: deny }
)yaml";
  const std::string report = problems(yaml);
  EXPECT_TRUE(has_line(report, at(9) + "access[1]: rule name \"r\" is already used at line 8"));
  EXPECT_TRUE(
      has_line(report, at(11) + "guardrails[0]: rule name \"r\" is already used at line 8"));
}

TEST_F(ConfigLoaderTest, ReportsUnsetPasswordVariable) {
  std::string yaml(kOneConnection);
  yaml.replace(yaml.find("{ user: app }"), 13, "{ user: app, password_env: APP_DB_PASSWORD }");
  EXPECT_TRUE(has_line(problems(yaml),
                       at(6) + "connections[0].credentials.default.password_env: environment "
                               "variable APP_DB_PASSWORD is not set"));
}

TEST_F(ConfigLoaderTest, NeverPutsPasswordsInMessages) {
  setenv("APP_DB_PASSWORD", "hunter2-from-env", 1);
  write("pw.txt", "hunter2-from-file\n");
  const std::string report = problems(R"yaml(connections:
  - name: db
    address: 127.0.0.1:bad
    database: app
    credentials:
      default: { user: app, password_env: APP_DB_PASSWORD, extra: 1 }
      ro: { user: ro, password_file: pw.txt, password: hunter2-inline }
      both: { user: x, password_env: APP_DB_PASSWORD, password_file: pw.txt }
state: { url: "postgresql://u:hunter2-in-url@host/db?x" }
state2: 1
access:
  - { name: r, who: { groups: [a] }, connections: [db, nope], credentials: missing }
)yaml");
  EXPECT_TRUE(has_line(report,
                       "unknown key \"password\" in connections[0].credentials.ro "
                       "(use password_env or password_file)"));
  EXPECT_EQ(report.find("hunter2"), std::string::npos) << report;
}

TEST_F(ConfigLoaderTest, ReadsPasswordFileRelativeToTheConfigAndTrimsTheNewline) {
  write("secrets/db.pw", "s3cret\r\n");
  std::string yaml(kOneConnection);
  yaml.replace(yaml.find("{ user: app }"), 13, "{ user: app, password_file: secrets/db.pw }");
  auto result = parse(yaml);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const CredentialProfile& p = (*result)->connections[0].credentials.at("default");
  EXPECT_EQ(p.password.reveal(), "s3cret");
  EXPECT_EQ(p.password_file, dir_ / "secrets/db.pw");
}

TEST_F(ConfigLoaderTest, ReportsMissingPasswordFile) {
  std::string yaml(kOneConnection);
  yaml.replace(yaml.find("{ user: app }"), 13, "{ user: app, password_file: nope.pw }");
  EXPECT_TRUE(has_line(problems(yaml), at(6) +
                                           "connections[0].credentials.default.password_file: "
                                           "cannot read " +
                                           (dir_ / "nope.pw").string()));
}

TEST_F(ConfigLoaderTest, ReportsAccessRuleNamingUnknownConnection) {
  std::string yaml(kOneConnection);
  yaml += "access:\n  - name: r\n    who: { groups: [eng] }\n    connections: [db, dbb]\n";
  EXPECT_TRUE(has_line(problems(yaml), at(10) + "access[0].connections[1]: unknown connection "
                                                "\"dbb\""));
}

TEST_F(ConfigLoaderTest, RequiresCredentialProfileOnEveryConnectionOfTheRule) {
  std::string yaml(kOneConnection);
  yaml += R"yaml(  - name: db2
    address: 127.0.0.1:5433
    database: app
    credentials: { readonly: { user: ro }, default: { user: rw } }
access:
  - name: r
    who: { groups: [eng] }
    connections:
      - db2
      - db
    credentials: readonly
)yaml";
  const std::string report = problems(yaml);
  EXPECT_TRUE(has_line(report, at(16) + "access[0].connections[1]: connection \"db\" has no "
                                        "credential profile \"readonly\""));
  EXPECT_EQ(report.find("connections[0]:"), std::string::npos) << report;
}

TEST_F(ConfigLoaderTest, ReportsUnknownMaskingProfileWhenProfilesAreDefined) {
  std::string yaml(kOneConnection);
  yaml += R"yaml(masking:
  profiles:
    strict: { detectors: [email] }
access:
  - { name: a, who: { groups: [x] }, connections: [db], masking: strict }
  - { name: b, who: { groups: [x] }, connections: [db], masking: none }
  - { name: c, who: { groups: [x] }, connections: [db], masking: default }
)yaml";
  const std::string report = problems(yaml);
  EXPECT_TRUE(has_line(report, at(13) + "access[2].masking: unknown masking profile \"default\""));
  EXPECT_EQ(report.find("access[0]"), std::string::npos) << report;
  EXPECT_EQ(report.find("access[1]"), std::string::npos) << report;
}

TEST_F(ConfigLoaderTest, AcceptsAnyMaskingNameWhenNoProfilesAreDefined) {
  std::string yaml(kOneConnection);
  yaml += "access:\n  - { name: a, who: { groups: [x] }, connections: [db], masking: default }\n";
  auto result = parse(yaml);
  EXPECT_TRUE(result.ok()) << result.error().message;
}

TEST_F(ConfigLoaderTest, ReadsEveryConnectionKind) {
  auto result = parse(R"yaml(connections:
  - { name: pg, kind: postgres, address: 127.0.0.1:5432, database: app }
  - { name: my, kind: mysql, address: 127.0.0.1:3306, database: app }
  - { name: host, kind: ssh, address: 10.0.0.5:22, host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl root@web" }
  - { name: cluster, kind: kubernetes, address: "https://10.0.0.1:6443" }
)yaml");
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Config& c = **result;
  ASSERT_EQ(c.connections.size(), 4u);
  EXPECT_EQ(c.connections[0].kind, ConnectionKind::postgres);
  EXPECT_EQ(c.connections[1].kind, ConnectionKind::mysql);
  EXPECT_EQ(c.connections[1].target.database, "app");
  EXPECT_EQ(c.connections[2].kind, ConnectionKind::ssh);
  EXPECT_EQ(c.connections[2].target.address.port, 22);
  // The pinned key without its comment.
  EXPECT_EQ(c.connections[2].host_key.line,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl");
  EXPECT_EQ(c.connections[3].kind, ConnectionKind::kubernetes);
  EXPECT_EQ(to_string(ConnectionKind::kubernetes), "kubernetes");
}

TEST_F(ConfigLoaderTest, ReportsUnknownConnectionKind) {
  std::string yaml(kOneConnection);
  yaml.insert(yaml.find("    address"), "    kind: oracle\n");
  EXPECT_TRUE(has_line(problems(yaml), at(3) + "connections[0].kind: unknown value \"oracle\" "
                                               "(expected postgres, mysql, ssh or kubernetes)"));
}

TEST_F(ConfigLoaderTest, ReportsDatabaseSettingsOnAnSshConnection) {
  std::string yaml(kOneConnection);
  yaml.insert(yaml.find("    address"), "    kind: ssh\n");
  EXPECT_TRUE(has_line(
      problems(yaml), at(5) + "connections[0]: database is only used with kind postgres or mysql"));
}

TEST_F(ConfigLoaderTest, RefusesAnSshKeyFileOthersMayRead) {
  write("keys/deploy_ed25519", "key");
  std::filesystem::permissions(dir_ / "keys/deploy_ed25519",
                               std::filesystem::perms::owner_read |
                                   std::filesystem::perms::group_read |
                                   std::filesystem::perms::others_read);
  const std::string yaml =
      "connections:\n"
      "  - name: web\n"
      "    kind: ssh\n"
      "    address: 10.0.0.5:22\n"
      "    host_key: \"ssh-ed25519 "
      "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\"\n"
      "    credentials:\n"
      "      ops: { user: deploy, key_file: keys/deploy_ed25519 }\n";
  const auto report = problems(yaml);
  EXPECT_NE(report.find("may be read by other users (mode 444); chmod 600 it"), std::string::npos)
      << report;
}

constexpr std::string_view kHostKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

TEST_F(ConfigLoaderTest, ReadsSshTargetsCredentialsProgramsAndShellGuardrails) {
  write("keys/deploy_ed25519", "key");
  std::filesystem::permissions(dir_ / "keys/deploy_ed25519", std::filesystem::perms::owner_read);
  write("known_hosts", "");
  auto result = parse(fmt::format(R"yaml(connections:
  - name: web-1
    kind: ssh
    address: 10.0.0.5:22
    host_key: "{}"
    credentials:
      ops: {{ user: deploy, key_file: keys/deploy_ed25519 }}
  - name: web-2
    kind: ssh
    address: 10.0.0.6:22
    known_hosts_file: known_hosts
    credentials:
      ops: {{ user: deploy, key_file: keys/deploy_ed25519 }}
access:
  - name: oncall
    who: {{ groups: [oncall] }}
    connections: [web-1, web-2]
    credentials: ops
    allow: [exec, file_write]
    programs: [ls, cat, "systemctl status"]
guardrails:
  - name: no-deletes
    when: {{ programs: [rm, shred], paths: ["/etc/*"], options: [{{ program: find, options: [-delete, -exec] }}], classes: [exec] }}
    action: deny
)yaml",
                                  kHostKey));
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Config& c = **result;
  EXPECT_EQ(c.connections[0].host_key.line, kHostKey);
  EXPECT_EQ(c.connections[1].host_key.known_hosts_file, dir_ / "known_hosts");
  EXPECT_EQ(c.connections[0].credentials.at("ops").key_file, dir_ / "keys/deploy_ed25519");
  EXPECT_EQ(c.access[0].allow, (std::vector<std::string>{"exec", "file_write"}));
  EXPECT_EQ(c.access[0].programs, (std::vector<std::string>{"ls", "cat", "systemctl status"}));
  const GuardrailWhen& when = c.guardrails[0].when;
  EXPECT_EQ(when.programs, (std::vector<std::string>{"rm", "shred"}));
  EXPECT_EQ(when.paths, std::vector<std::string>{"/etc/*"});
  ASSERT_EQ(when.options.size(), 1u);
  EXPECT_EQ(when.options[0].program, "find");
  EXPECT_EQ(when.options[0].options, (std::vector<std::string>{"-delete", "-exec"}));
  EXPECT_TRUE(when.names_ssh_conditions());
}

TEST_F(ConfigLoaderTest, ReportsSshTargetsWithoutAPinnedKeyOrAKeyFile) {
  const std::string report = problems(fmt::format(R"yaml(connections:
  - {{ name: a, kind: ssh, address: 10.0.0.5:22 }}
  - {{ name: b, kind: ssh, address: 10.0.0.5:22, host_key: "{}", known_hosts_file: x }}
  - {{ name: c, kind: ssh, address: 10.0.0.5:22, host_key: "ssh-dss AAAA" }}
  - name: d
    kind: ssh
    address: 10.0.0.5:22
    host_key: "{}"
    credentials:
      ops: {{ user: deploy, password_env: PORTCULLIS_TEST_PW }}
      other: {{ user: deploy }}
  - {{ name: e, address: 127.0.0.1:5432, database: app, host_key: "{}" }}
)yaml",
                                                  kHostKey, kHostKey, kHostKey));
  EXPECT_TRUE(has_line(report, at(2) + "connections[0]: an ssh connection needs \"host_key\" or "
                                       "\"known_hosts_file\" (the target's key, pinned)"))
      << report;
  EXPECT_TRUE(
      has_line(report, at(3) + "connections[1]: give host_key or known_hosts_file, not both"))
      << report;
  EXPECT_NE(report.find(at(4) + "connections[2].host_key: expected a host key"), std::string::npos)
      << report;
  EXPECT_NE(report.find("unknown key \"password_env\""), std::string::npos) << report;
  EXPECT_NE(report.find("connections[3].credentials.other: missing required key \"key_file\""),
            std::string::npos)
      << report;
  EXPECT_TRUE(has_line(report, at(12) + "connections[4]: host_key is only used with kind ssh"))
      << report;
}

TEST_F(ConfigLoaderTest, ReportsProgramsOnDatabaseRulesAndMixedGuardrails) {
  std::string yaml(kOneConnection);
  yaml +=
      "access:\n"
      "  - { name: a, who: { groups: [x] }, connections: [db], programs: [ls] }\n"
      "guardrails:\n"
      "  - name: mixed\n"
      "    when: { statements: [delete], programs: [rm] }\n"
      "    action: deny\n"
      "  - name: bad-option\n"
      "    when: { options: [{ program: find, options: [delete] }] }\n"
      "    action: deny\n";
  const std::string report = problems(yaml);
  EXPECT_TRUE(has_line(report, at(8) + "access[0].programs: programs applies to ssh and "
                                       "kubernetes connections, and this rule names neither"))
      << report;
  EXPECT_NE(report.find(at(11) + "guardrails[0].when: statements is a condition on SQL statements"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("\"delete\" is not an option (options start with -)"), std::string::npos)
      << report;
}

TEST_F(ConfigLoaderTest, ReadsKubernetesTargetsCredentialsResourcesAndGuardrails) {
  write("certs/prod-ca.crt", "ca");
  write("certs/gw.crt", "cert");
  write("certs/gw.key", "key");
  write("tokens/viewer", "token-from-a-file\n");
  ::setenv("PORTCULLIS_TEST_K8S_TOKEN", "token-from-env", 1);
  auto result = parse(R"yaml(connections:
  - name: prod-cluster
    kind: kubernetes
    address: https://10.0.0.1:6443
    ca_file: certs/prod-ca.crt
    credentials:
      viewer: { token_env: PORTCULLIS_TEST_K8S_TOKEN }
      filed: { token_file: tokens/viewer }
      certified: { client_cert_file: certs/gw.crt, client_key_file: certs/gw.key }
  - { name: named, kind: kubernetes, address: "https://kube.example.com/" }
access:
  - name: devs-prod
    who: { groups: [devs] }
    connections: [prod-cluster]
    credentials: viewer
    allow: [read, exec, secrets]
    resources: [pods, pods/log, deployments]
    programs: [ls, cat]
guardrails:
  - name: prod-deletes
    when: { verbs: [delete, deletecollection], resources: [pods], namespaces: ["prod*"], names: ["web-*"] }
    action: deny
)yaml");
  ::unsetenv("PORTCULLIS_TEST_K8S_TOKEN");
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Config& c = **result;
  const auto& cluster = c.connections[0];
  EXPECT_EQ(cluster.target.address.host, "10.0.0.1");
  EXPECT_EQ(cluster.target.address.port, 6443);
  EXPECT_EQ(cluster.kubernetes.ca_file, dir_ / "certs/prod-ca.crt");
  EXPECT_EQ(cluster.credentials.at("viewer").token.reveal(), "token-from-env");
  EXPECT_EQ(cluster.credentials.at("viewer").token_env, "PORTCULLIS_TEST_K8S_TOKEN");
  EXPECT_EQ(cluster.credentials.at("filed").token.reveal(), "token-from-a-file");
  EXPECT_EQ(cluster.credentials.at("certified").client_key_file, dir_ / "certs/gw.key");
  // No port: HTTPS's own.
  EXPECT_EQ(c.connections[1].target.address.host, "kube.example.com");
  EXPECT_EQ(c.connections[1].target.address.port, 443);
  EXPECT_EQ(c.access[0].resources, (std::vector<std::string>{"pods", "pods/log", "deployments"}));
  EXPECT_EQ(c.access[0].allow, (std::vector<std::string>{"read", "exec", "secrets"}));
  const GuardrailWhen& when = c.guardrails[0].when;
  EXPECT_EQ(when.verbs, (std::vector<std::string>{"delete", "deletecollection"}));
  EXPECT_EQ(when.namespaces, std::vector<std::string>{"prod*"});
  EXPECT_EQ(when.names, std::vector<std::string>{"web-*"});
  EXPECT_TRUE(when.names_kubernetes_conditions());
  EXPECT_FALSE(when.names_ssh_conditions());
}

TEST_F(ConfigLoaderTest, ReportsKubernetesSettingsThatCannotWork) {
  const std::string report = problems(R"yaml(connections:
  - { name: a, kind: kubernetes, address: "10.0.0.1:6443" }
  - { name: b, kind: kubernetes, address: "https://10.0.0.1:6443/api" }
  - name: c
    kind: kubernetes
    address: https://10.0.0.1:6443
    credentials:
      both: { token_env: X, client_cert_file: a.crt, client_key_file: a.key }
      half: { client_cert_file: a.crt }
      none: {}
  - { name: db, address: 127.0.0.1:5432, database: app, ca_file: x }
access:
  - { name: r, who: { groups: [x] }, connections: [db], resources: [pods] }
  - { name: s, who: { groups: [x] }, connections: [a], resources: ["Pods", "pods/log/x"] }
guardrails:
  - { name: g, when: { verbs: [delete], tables: [t] }, action: deny }
  - { name: h, when: { verbs: [erase] }, action: deny }
)yaml");
  EXPECT_NE(report.find(at(2) + "connections[0].address: a kubernetes address is an https:// URL"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find(at(3) + "connections[1].address: a kubernetes address has no path"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("connections[2].credentials.both: give one of token_env, token_file or "
                        "client_cert_file with client_key_file"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("connections[2].credentials.half: client_cert_file and client_key_file "
                        "go together"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("connections[2].credentials.none: give one of"), std::string::npos)
      << report;
  EXPECT_NE(report.find("connections[3]: ca_file is only used with kind kubernetes"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("access[0].resources: resources applies to kubernetes connections"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("\"Pods\" is not a kubernetes resource"), std::string::npos) << report;
  EXPECT_NE(report.find("\"pods/log/x\" is not a kubernetes resource"), std::string::npos)
      << report;
  EXPECT_NE(report.find("guardrails[0].when: tables is a condition on SQL statements, and this "
                        "guardrail names kubernetes conditions"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("guardrails[1].when.verbs[0]: unknown value \"erase\""), std::string::npos)
      << report;
}

TEST_F(ConfigLoaderTest, ReadsAListenerPerProtocol) {
  auto result = parse(
      "listen:\n  mysql: 127.0.0.1:13306\n  ssh: 127.0.0.1:2222\n  kubernetes: 127.0.0.1:16443\n"
      "  http: 127.0.0.1:18080\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  const ListenConfig& listen = (*result)->listen;
  // No postgres listener is added when another front end's is written.
  EXPECT_EQ(listen.find("postgres"), nullptr);
  ASSERT_NE(listen.find("mysql"), nullptr);
  EXPECT_EQ(listen.find("mysql")->port, 13306);
  EXPECT_EQ(listen.find("mysql")->line, 2);
  EXPECT_EQ(listen.find("ssh")->port, 2222);
  EXPECT_EQ(listen.find("kubernetes")->port, 16443);
  EXPECT_EQ(listen.http->port, 18080);
}

TEST_F(ConfigLoaderTest, ReportsUnknownListener) {
  EXPECT_TRUE(has_line(problems("listen:\n  oracle: 127.0.0.1:1521\n"),
                       at(2) + "unknown key \"oracle\" in listen"));
}

TEST_F(ConfigLoaderTest, FrontEndCheckAcceptsBuiltProtocols) {
  auto result = parse(kOneConnection);
  ASSERT_TRUE(result.ok()) << result.error().message;
  constexpr std::array<std::string_view, 1> kBuilt{"postgres"};
  EXPECT_TRUE(check_front_ends(**result, kBuilt).ok());
}

TEST_F(ConfigLoaderTest, FrontEndCheckRefusesKindsAndListenersNotBuilt) {
  auto result = parse(R"yaml(listen:
  postgres: 127.0.0.1:15432
  mysql: 127.0.0.1:13306
connections:
  - { name: pg, address: 127.0.0.1:5432, database: app }
  - { name: my, kind: mysql, address: 127.0.0.1:3306, database: app }
  - { name: host, kind: ssh, address: 10.0.0.5:22, host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" }
)yaml");
  ASSERT_TRUE(result.ok()) << result.error().message;
  constexpr std::array<std::string_view, 1> kBuilt{"postgres"};
  auto checked = check_front_ends(**result, kBuilt);
  ASSERT_FALSE(checked.ok());
  const std::string& report = checked.error().message;
  EXPECT_TRUE(has_line(report, at(3) + "listen.mysql: the mysql front end is not built into "
                                       "this gateway yet"));
  EXPECT_TRUE(has_line(report, at(6) + "connection \"my\": kind mysql is not built into this "
                                       "gateway yet"));
  EXPECT_TRUE(has_line(report, at(7) + "connection \"host\": kind ssh is not built into this "
                                       "gateway yet"));
  EXPECT_EQ(report.find("\"pg\""), std::string::npos);
}

TEST_F(ConfigLoaderTest, WithoutMaskingVocabularyNamesAreCheckedForFormOnly) {
  auto result = parse_config(R"yaml(masking:
  profiles:
    p:
      detectors: [some_detector]
      strategy: scramble
      strategies: { some_detector: shuffle }
)yaml",
                             file_);
  EXPECT_TRUE(result.ok()) << result.error().message;
}

TEST_F(ConfigLoaderTest, ReportsReviewGuardrailWithoutReviewers) {
  std::string yaml(kOneConnection);
  yaml += "guardrails:\n  - name: g\n    when: { statements: [delete] }\n    action: review\n";
  EXPECT_TRUE(has_line(
      problems(yaml), at(8) + "guardrails[0]: action review needs reviewers (groups or subjects)"));
}

TEST_F(ConfigLoaderTest, ReportsWaitOnAGuardrailThatDoesNotReview) {
  std::string yaml(kOneConnection);
  yaml += "guardrails:\n  - name: g\n    when: {}\n    action: deny\n    wait: 30s\n";
  EXPECT_TRUE(
      has_line(problems(yaml), at(11) + "guardrails[0]: wait is only used with action: review"));
}

TEST_F(ConfigLoaderTest, ReadsRowsOverOnAGuardrail) {
  std::string yaml(kOneConnection);
  yaml +=
      "guardrails:\n  - name: g\n    when: { statements: [delete], rows_over: 1000 }\n"
      "    action: deny\n";
  auto result = parse(yaml);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->guardrails[0].when.rows_over, std::optional<uint64_t>(1000));
  yaml = std::string(kOneConnection) +
         "guardrails:\n  - name: g\n    when: { rows_over: many }\n    action: deny\n";
  EXPECT_NE(problems(yaml).find("rows_over"), std::string::npos) << problems(yaml);
}

TEST_F(ConfigLoaderTest, RequiresGuardrailConditionsAndAction) {
  std::string yaml(kOneConnection);
  yaml += "guardrails:\n  - name: g\n";
  const std::string report = problems(yaml);
  EXPECT_TRUE(has_line(report, at(8) + "guardrails[0]: missing required key \"when\""));
  EXPECT_TRUE(has_line(report, at(8) + "guardrails[0]: missing required key \"action\""));
}

TEST_F(ConfigLoaderTest, ReportsGuardrailNamingUnknownConnection) {
  std::string yaml(kOneConnection);
  yaml += "guardrails:\n  - { name: g, when: { connections: [prod] }, action: deny }\n";
  EXPECT_TRUE(has_line(problems(yaml), at(8) + "guardrails[0].when.connections[0]: unknown "
                                               "connection \"prod\""));
}

TEST_F(ConfigLoaderTest, ResolvesRelativePathsAgainstTheConfigFolder) {
  write("conf/certs/a.crt", "c");
  write("conf/certs/a.key", "k");
  write("conf/jwks.json", "{}");
  write("conf/ca.pem", "ca");
  const std::string yaml = R"yaml(tls: { cert_file: certs/a.crt, key_file: ./certs/../certs/a.key }
state: { url: sqlite://data/state.db }
identity:
  signing_key_file: keys/gw.key
  oidc: [{ issuer: "https://i/", audience: a, jwks_file: jwks.json }]
connections:
  - { name: db, address: "db:5432", database: d, tls_ca_file: ca.pem }
audit:
  exporters: [{ kind: jsonl, path: out/audit.jsonl }]
)yaml";
  write("conf/portcullis.yaml", yaml);
  auto result = load_config(dir_ / "conf/portcullis.yaml", masking::config_vocabulary());
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Config& c = **result;
  const fs::path conf = dir_ / "conf";
  EXPECT_EQ(c.tls->cert_file, conf / "certs/a.crt");
  EXPECT_EQ(c.tls->key_file, conf / "certs/a.key");
  EXPECT_EQ(c.state_url, "sqlite://" + (conf / "data/state.db").string());
  EXPECT_EQ(c.identity.signing_key_file, conf / "keys/gw.key");
  EXPECT_EQ(c.identity.oidc[0].jwks_file, conf / "jwks.json");
  EXPECT_EQ(c.connections[0].target.tls_ca_file, conf / "ca.pem");
  EXPECT_EQ(c.audit.exporters[0].path, conf / "out/audit.jsonl");
}

TEST_F(ConfigLoaderTest, KeepsAbsoluteSqlitePath) {
  auto result = parse("state: { url: sqlite:///srv/portcullis/state.db }\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->state_url, "sqlite:///srv/portcullis/state.db");
}

TEST_F(ConfigLoaderTest, KeepsPostgresStateUrlAsWritten) {
  auto result = parse("state: { url: \"postgresql://gw@db/portcullis\" }\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->state_url, "postgresql://gw@db/portcullis");
}

TEST_F(ConfigLoaderTest, InstanceNameDefaultsToTheHostName) {
  auto result = parse("");
  ASSERT_TRUE(result.ok()) << result.error().message;
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ((*result)->instance, std::string(host).substr(0, 63));
}

TEST_F(ConfigLoaderTest, ReadsTheInstanceName) {
  auto result = parse("instance: gw-a.eu_1\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->instance, "gw-a.eu_1");
}

TEST_F(ConfigLoaderTest, RefusesAnInstanceNameThatIsNotALabel) {
  // Names go into records, log lines and notifications between instances.
  EXPECT_TRUE(has_line(problems("instance: \"gw a\"\n"),
                       at(1) + "instance: \"gw a\" is not a name (letters, digits, '-', '_', "
                               "'.'; at most 63 characters)"));
  EXPECT_FALSE(parse("instance: " + std::string(64, 'a') + "\n").ok());
  EXPECT_FALSE(parse("instance: [a]\n").ok());
}

TEST_F(ConfigLoaderTest, ReportsUnknownStateScheme) {
  EXPECT_TRUE(has_line(problems("state:\n  url: mysql://x\n"),
                       at(2) + "state.url: expected sqlite://PATH or postgresql://"));
}

TEST_F(ConfigLoaderTest, ReportsMissingTlsFiles) {
  const std::string report = problems("tls:\n  cert_file: nope.crt\n");
  EXPECT_TRUE(
      has_line(report, at(2) + "tls.cert_file: cannot read " + (dir_ / "nope.crt").string()));
  EXPECT_TRUE(has_line(report, at(2) + "tls: missing required key \"key_file\""));
}

TEST_F(ConfigLoaderTest, RequiresTlsForNonLoopbackListeners) {
  EXPECT_TRUE(has_line(problems("listen:\n  postgres: 0.0.0.0:15432\n"),
                       at(2) + "listen.postgres: 0.0.0.0 is not a loopback address, so a tls "
                               "section (cert_file, key_file) is required"));
  EXPECT_TRUE(parse("listen: { postgres: \"[::1]:15432\", http: localhost:8080 }\n").ok());
  // SSH encrypts itself.
  EXPECT_TRUE(parse("listen: { ssh: 0.0.0.0:2222 }\n").ok());
}

TEST_F(ConfigLoaderTest, ReportsYamlSyntaxErrorWithItsLine) {
  const std::string report = problems("connections:\n  - name: db\n    address: [oops\n");
  EXPECT_EQ(report.rfind(file_ + ":", 0), 0u) << report;
  EXPECT_NE(report.find(":4: "), std::string::npos) << report;
}

TEST_F(ConfigLoaderTest, ReportsTabIndentationAsASyntaxError) {
  const std::string report = problems("listen:\n\tpostgres: 127.0.0.1:1\n");
  EXPECT_EQ(report.rfind(at(2), 0), 0u) << report;
}

TEST_F(ConfigLoaderTest, ReportsEveryProblemInLineOrder) {
  const std::string report = problems(R"yaml(audit:
  checkpoint_every: 0
connections:
  - { name: db, address: "h:1", database: d }
listen: { postgres: "h" }
)yaml");
  const auto first = report.find(at(2));
  const auto second = report.find(at(5));
  ASSERT_NE(first, std::string::npos) << report;
  ASSERT_NE(second, std::string::npos) << report;
  EXPECT_LT(first, second);
  EXPECT_NE(report.find('\n'), std::string::npos);
}

TEST_F(ConfigLoaderTest, RejectsNonMapDocument) {
  EXPECT_TRUE(has_line(problems("- a\n- b\n"), at(1) + "expected a map of settings at the top"));
}

TEST_F(ConfigLoaderTest, RejectsSeveralDocuments) {
  EXPECT_TRUE(
      has_line(problems("api: {}\n---\napi: {}\n"), at(2) + "only one YAML document is allowed"));
}

TEST_F(ConfigLoaderTest, ReportsTextTheYamlParserCannotPlace) {
  EXPECT_TRUE(has_line(problems(","), at(1) + "YAML syntax error: unexpected \",\""));
}

TEST_F(ConfigLoaderTest, NamesTheFileAsWrittenInMessages) {
  auto result =
      parse_config("bogus: 1\n", "some/where/portcullis.yaml", masking::config_vocabulary());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "some/where/portcullis.yaml:1: unknown key \"bogus\" in the top level");
}

TEST_F(ConfigLoaderTest, ReportsUnreadableFile) {
  auto result = load_config(dir_ / "missing.yaml", masking::config_vocabulary());
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(has_line(result.error().message, (dir_ / "missing.yaml").string() + ": cannot read"));
}

TEST_F(ConfigLoaderTest, ReportsDefaultTokenTtlLongerThanMaximum) {
  EXPECT_TRUE(has_line(problems("identity:\n  default_token_ttl: 2d\n  max_token_ttl: 1d\n"),
                       at(2) + "identity.default_token_ttl (2d) is longer than "
                               "identity.max_token_ttl (1d)"));
}

TEST_F(ConfigLoaderTest, ReportsUnsupportedExporterKind) {
  EXPECT_TRUE(has_line(problems("audit:\n  exporters:\n    - { kind: splunk, path: x }\n"),
                       at(3) + "audit.exporters[0].kind: exporter kind \"splunk\" is not "
                               "supported yet"));
}

TEST_F(ConfigLoaderTest, RejectsDetectorsOnTheNoneProfile) {
  EXPECT_TRUE(has_line(problems("masking:\n  profiles:\n    none: { detectors: [email] }\n"),
                       at(3) + "masking profile \"none\" means no masking; it must be empty"));
}

TEST_F(ConfigLoaderTest, LoadsMaskingStrategiesCustomDetectorsAndHashKey) {
  setenv("PORTCULLIS_TEST_MASK_KEY", "k3y", 1);
  auto result = parse(R"yaml(masking:
  hash_key_env: PORTCULLIS_TEST_MASK_KEY
  profiles:
    p:
      detectors: [email, credit_card]
      strategy: partial
      strategies: { credit_card: hash, employee_id: "null" }
      columns:
        - { match: "*.ssn", action: "null" }
      custom:
        - { name: employee_id, regex: "EMP-[0-9]{6}" }
        - { name: codename, words: [bluebird, red fox] }
)yaml");
  unsetenv("PORTCULLIS_TEST_MASK_KEY");
  ASSERT_TRUE(result.ok()) << result.error().message;
  const ConfigPtr& c = *result;
  EXPECT_EQ(c->masking.hash_key.reveal(), "k3y");
  EXPECT_EQ(c->masking.hash_key_env, "PORTCULLIS_TEST_MASK_KEY");
  const MaskingProfileConfig* p = c->find_masking_profile("p");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->strategy, "partial");
  EXPECT_EQ(p->strategies.at("credit_card"), "hash");
  EXPECT_EQ(p->strategies.at("employee_id"), "null");
  ASSERT_EQ(p->columns.size(), 1u);
  EXPECT_EQ(p->columns[0].action, "null");
  ASSERT_EQ(p->custom.size(), 2u);
  EXPECT_EQ(p->custom[0].regex, "EMP-[0-9]{6}");
  EXPECT_EQ(p->custom[1].words.size(), 2u);
}

TEST_F(ConfigLoaderTest, ReportsMaskingMistakesWithTheirLines) {
  const std::string report = problems(R"yaml(masking:
  profiles:
    p:
      detectors: [email, passport]
      strategy: scramble
      strategies: { nothing: redact, email: shred }
      columns:
        - { match: "*.x", action: blur }
      custom:
        - { name: bad, regex: "EMP-[0-9" }
        - { name: email, words: [x] }
        - { name: both, regex: "a+", words: [x] }
    h:
      strategy: hash
)yaml");
  EXPECT_TRUE(
      has_line(report, at(4) + "masking.profiles.p.detectors[1]: unknown detector \"passport\""));
  EXPECT_TRUE(
      has_line(report, at(5) + "masking.profiles.p.strategy: unknown strategy \"scramble\""));
  EXPECT_TRUE(
      has_line(report, at(6) + "masking.profiles.p.strategies: unknown detector \"nothing\""));
  EXPECT_TRUE(
      has_line(report, at(6) + "masking.profiles.p.strategies.email: unknown strategy \"shred\""));
  EXPECT_TRUE(has_line(
      report, at(8) + "masking.profiles.p.columns[0]: \"blur\" is not a masking action name"));
  EXPECT_TRUE(has_line(report, at(10) + "masking.profiles.p.custom[0].regex: invalid regex:"));
  EXPECT_TRUE(has_line(
      report, at(11) + "masking.profiles.p.custom[1].name: detector \"email\" is already defined"));
  EXPECT_TRUE(has_line(report, at(12) + "masking.profiles.p.custom[2]: give regex or words"));
  EXPECT_TRUE(has_line(report, at(13) + "masking.profiles.h: the hash strategy needs a key"));
  EXPECT_TRUE(has_line(
      problems("masking:\n  profiles:\n    p: { detectors: [email], strategy: null }\n"),
      at(3) + "masking.profiles.p.strategy: expected a strategy; write the null strategy as "
              "\"null\", in quotes"));
}

TEST_F(ConfigLoaderTest, ReadsTheHashKeyFromAFile) {
  write("mask.key", "file-key\n");
  auto result =
      parse("masking:\n  hash_key_file: mask.key\n  profiles:\n    p: { strategy: hash }\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->masking.hash_key.reveal(), "file-key");
  EXPECT_TRUE(has_line(problems("masking:\n  hash_key_env: NO_SUCH_VAR_PORTCULLIS\n"),
                       at(2) + "masking.hash_key_env: environment variable NO_SUCH_VAR_PORTCULLIS "
                               "is not set"));
}

TEST_F(ConfigLoaderTest, ReadsJustInTimeAccessRules) {
  std::string yaml(kOneConnection);
  yaml += R"yaml(access:
  - name: jit
    who: { groups: [eng] }
    connections: [db]
    requires_request: true
    reviewers: { groups: [sre], subjects: [sam] }
    min_approvals: 2
    max_duration: 4h
  - name: everyday
    who: { groups: [eng] }
    connections: [db]
)yaml";
  auto result = parse(yaml);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Config& c = **result;
  ASSERT_EQ(c.access.size(), 2u);
  EXPECT_TRUE(c.access[0].requires_request);
  EXPECT_EQ(c.access[0].reviewers.groups, std::vector<std::string>{"sre"});
  EXPECT_EQ(c.access[0].reviewers.subjects, std::vector<std::string>{"sam"});
  EXPECT_EQ(c.access[0].min_approvals, 2u);
  EXPECT_EQ(c.access[0].max_duration, 4h);
  EXPECT_FALSE(c.access[1].requires_request);
  EXPECT_TRUE(c.access[1].reviewers.groups.empty());
  EXPECT_EQ(c.access[1].min_approvals, 1u);
  EXPECT_EQ(c.access[1].max_duration, 8h);
}

TEST_F(ConfigLoaderTest, DefaultsAJustInTimeRulesApprovalsAndDuration) {
  std::string yaml(kOneConnection);
  yaml +=
      "access:\n  - name: jit\n    who: { groups: [eng] }\n    connections: [db]\n"
      "    requires_request: true\n    reviewers: { subjects: [sam] }\n";
  auto result = parse(yaml);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->access[0].min_approvals, 1u);
  EXPECT_EQ((*result)->access[0].max_duration, 8h);
  EXPECT_TRUE((*result)->access[0].reviewers.groups.empty());
}

TEST_F(ConfigLoaderTest, ReportsRequiresRequestWithoutReviewers) {
  std::string yaml(kOneConnection);
  yaml +=
      "access:\n  - name: jit\n    who: { groups: [eng] }\n    connections: [db]\n"
      "    requires_request: true\n";
  EXPECT_TRUE(has_line(problems(yaml),
                       at(8) + "access[0]: requires_request needs reviewers (groups or subjects)"));
  std::string empty(kOneConnection);
  empty +=
      "access:\n  - name: jit\n    who: { groups: [eng] }\n    connections: [db]\n"
      "    requires_request: true\n    reviewers: { groups: [] }\n";
  EXPECT_TRUE(
      has_line(problems(empty),
               at(12) + "access[0]: requires_request needs reviewers (groups or subjects)"));
}

TEST_F(ConfigLoaderTest, ReportsReviewerSettingsOnARuleWithoutRequiresRequest) {
  std::string yaml(kOneConnection);
  yaml += R"yaml(access:
  - name: r
    who: { groups: [eng] }
    connections: [db]
    reviewers: { groups: [sre] }
    min_approvals: 2
    max_duration: 1h
  - name: s
    who: { groups: [eng] }
    connections: [db]
    requires_request: false
    reviewers: { subjects: [sam] }
)yaml";
  const std::string report = problems(yaml);
  EXPECT_TRUE(
      has_line(report, at(11) + "access[0].reviewers is only used with requires_request: true"));
  EXPECT_TRUE(has_line(
      report, at(12) + "access[0].min_approvals is only used with requires_request: true"));
  EXPECT_TRUE(
      has_line(report, at(13) + "access[0].max_duration is only used with requires_request: true"));
  EXPECT_TRUE(
      has_line(report, at(18) + "access[1].reviewers is only used with requires_request: true"));
}

TEST_F(ConfigLoaderTest, ReportsBadJustInTimeValues) {
  std::string yaml(kOneConnection);
  yaml += R"yaml(access:
  - name: jit
    who: { groups: [eng] }
    connections: [db]
    requires_request: maybe
    reviewers: { groups: [sre], teams: [x] }
    min_approvals: 0
    max_duration: 0s
)yaml";
  const std::string report = problems(yaml);
  EXPECT_TRUE(has_line(report, at(11) + "access[0].requires_request: expected true or false"));
  EXPECT_TRUE(has_line(report, at(12) + "unknown key \"teams\" in access[0].reviewers"));
  EXPECT_TRUE(has_line(report, at(13) + "access[0].min_approvals must be at least 1"));
  EXPECT_TRUE(has_line(report, at(14) + "access[0].max_duration must be longer than zero"));
}

TEST_F(ConfigLoaderTest, ReadsAReviewGuardrailsMinimumOfApprovals) {
  std::string yaml(kOneConnection);
  yaml +=
      "guardrails:\n  - name: g\n    when: { statements: [delete] }\n    action: review\n"
      "    reviewers: { groups: [dba], subjects: [carol] }\n    min_approvals: 2\n"
      "  - name: h\n    when: { statements: [update] }\n    action: review\n"
      "    reviewers: { groups: [dba] }\n";
  auto result = parse(yaml);
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ((*result)->guardrails.size(), 2u);
  EXPECT_EQ((*result)->guardrails[0].min_approvals, 2u);
  EXPECT_EQ((*result)->guardrails[0].reviewers.subjects, std::vector<std::string>{"carol"});
  EXPECT_EQ((*result)->guardrails[1].min_approvals, 1u);
}

TEST_F(ConfigLoaderTest, ReportsGuardrailMinimumOfApprovalsOutsideReview) {
  std::string yaml(kOneConnection);
  yaml += "guardrails:\n  - name: g\n    when: {}\n    action: deny\n    min_approvals: 2\n";
  EXPECT_TRUE(has_line(problems(yaml),
                       at(11) + "guardrails[0]: min_approvals is only used with action: review"));
  std::string zero(kOneConnection);
  zero +=
      "guardrails:\n  - name: g\n    when: {}\n    action: review\n"
      "    reviewers: { groups: [dba] }\n    min_approvals: 0\n";
  EXPECT_TRUE(has_line(problems(zero), at(12) + "guardrails[0].min_approvals must be at least 1"));
}

TEST_F(ConfigLoaderTest, ReadsReviewTimings) {
  auto defaults = parse("# nothing\n");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ((*defaults)->reviews.grant_lifetime, 15min);
  EXPECT_EQ((*defaults)->reviews.pending_lifetime, 24h);

  auto result = parse("reviews:\n  grant_lifetime: 5m\n  pending_lifetime: 2h\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)->reviews.grant_lifetime, 5min);
  EXPECT_EQ((*result)->reviews.pending_lifetime, 2h);
}

TEST_F(ConfigLoaderTest, ReportsBadReviewTimings) {
  const std::string report =
      problems("reviews:\n  grant_lifetime: 0s\n  pending_lifetime: soon\n  wait: 1m\n");
  EXPECT_TRUE(has_line(report, at(2) + "reviews.grant_lifetime must be longer than zero"));
  EXPECT_TRUE(has_line(report, at(3) + "reviews.pending_lifetime: "));
  EXPECT_TRUE(has_line(report, at(4) + "unknown key \"wait\" in reviews"));
}

TEST_F(ConfigLoaderTest, ReadsNotificationWebhooks) {
  auto result = parse(R"yaml(notifications:
  api_url: https://gateway.example.com:18080
  webhooks:
    - name: dba-slack
      url: https://hooks.slack.com/services/T000/B000/XXXX
      format: slack
      timeout: 2s
      max_attempts: 3
    - url: http://127.0.0.1:9000/hook
)yaml");
  ASSERT_TRUE(result.ok()) << result.error().message;
  const NotificationsConfig& n = (*result)->notifications;
  EXPECT_EQ(n.api_url, "https://gateway.example.com:18080");
  ASSERT_EQ(n.webhooks.size(), 2u);
  EXPECT_EQ(n.webhooks[0].name, "dba-slack");
  EXPECT_EQ(n.webhooks[0].url, "https://hooks.slack.com/services/T000/B000/XXXX");
  EXPECT_EQ(n.webhooks[0].format, WebhookFormat::slack);
  EXPECT_EQ(n.webhooks[0].timeout, 2s);
  EXPECT_EQ(n.webhooks[0].max_attempts, 3u);
  EXPECT_EQ(n.webhooks[0].line, 4);
  // Defaults: the generic payload, 5 s per attempt, 5 attempts, named after its host (the
  // URL may hold a secret, and names appear in logs).
  EXPECT_EQ(n.webhooks[1].url, "http://127.0.0.1:9000/hook");
  EXPECT_EQ(n.webhooks[1].name, "127.0.0.1:9000");
  EXPECT_EQ(n.webhooks[1].format, WebhookFormat::json);
  EXPECT_EQ(n.webhooks[1].timeout, 5s);
  EXPECT_EQ(n.webhooks[1].max_attempts, 5u);
}

TEST_F(ConfigLoaderTest, AppliesNotificationDefaultsToAnEmptyFile) {
  auto result = parse("# nothing\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE((*result)->notifications.webhooks.empty());
  EXPECT_TRUE((*result)->notifications.api_url.empty());
}

TEST_F(ConfigLoaderTest, ReportsWebhookUrlThatIsNotHttp) {
  const std::string report = problems(R"yaml(notifications:
  webhooks:
    - url: ftp://example.com/hook
    - url: hooks.example.com/x
    - { name: x }
)yaml");
  EXPECT_TRUE(has_line(
      report, at(3) + "notifications.webhooks[0].url: expected an http:// or https:// URL"));
  EXPECT_TRUE(has_line(
      report, at(4) + "notifications.webhooks[1].url: expected an http:// or https:// URL"));
  EXPECT_TRUE(has_line(report, at(5) + "notifications.webhooks[2]: missing required key \"url\""));
}

TEST_F(ConfigLoaderTest, ReportsBadWebhookSettings) {
  const std::string report = problems(R"yaml(notifications:
  webhooks:
    - url: https://example.com/hook
      format: xml
      timeout: 0s
      max_attempts: 0
      retries: 3
)yaml");
  EXPECT_TRUE(has_line(report, at(4) + "notifications.webhooks[0].format: unknown value \"xml\" "
                                       "(expected json or slack)"));
  EXPECT_TRUE(
      has_line(report, at(5) + "notifications.webhooks[0].timeout must be longer than zero"));
  EXPECT_TRUE(
      has_line(report, at(6) + "notifications.webhooks[0].max_attempts must be at least 1"));
  EXPECT_TRUE(has_line(report, at(7) + "unknown key \"retries\" in notifications.webhooks[0]"));
  EXPECT_TRUE(has_line(problems("notifications:\n  hooks: []\n"),
                       at(2) + "unknown key \"hooks\" in notifications"));
}

}  // namespace
}  // namespace portcullis::config
