// Grant selection and the decision point on configurations loaded the way the gateway loads
// them.
#include "policy/access.h"

#include <gtest/gtest.h>

#include "config/loader.h"
#include "policy/decide.h"

namespace portcullis::policy {
namespace {

config::ConfigPtr load(std::string_view yaml) {
  auto config = config::parse_config(yaml, "/tmp/access-test/portcullis.yaml");
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message);
  return config.ok() ? *config : nullptr;
}

constexpr std::string_view kConfig = R"(
connections:
  - name: app
    kind: postgres
    address: 127.0.0.1:5432
    database: app
    credentials:
      default: { user: app_rw }
      readonly: { user: app_ro }
  - name: other
    kind: postgres
    address: 127.0.0.1:5433
    database: other
    credentials:
      default: { user: other_rw }
access:
  - name: ops-person
    who: { subjects: [carol] }
    connections: [app]
    credentials: default
    allow: [read, write, ddl]
  - name: engineers
    who: { groups: [engineering] }
    connections: [app]
    credentials: readonly
    allow: [read]
    masking: none
  - name: bots
    who: { groups: [engineering], kinds: [service] }
    connections: [other]
    allow: [read, write]
)";

identity::Identity person(std::string subject, std::vector<std::string> groups,
                          identity::SubjectKind kind = identity::SubjectKind::user) {
  identity::Identity id;
  id.subject = std::move(subject);
  id.groups = std::move(groups);
  id.kind = kind;
  return id;
}

TEST(SelectGrant, FirstMatchingRuleWinsAndPicksItsCredentials) {
  auto config = load(kConfig);
  ASSERT_TRUE(config);
  auto carol = select_grant(*config, person("carol", {"engineering"}), "app");
  ASSERT_TRUE(carol.ok()) << carol.error().message;
  EXPECT_EQ(carol->rule, "ops-person");
  EXPECT_EQ(carol->credentials->user, "app_rw");
  EXPECT_EQ(carol->allow, (std::vector<std::string>{"read", "write", "ddl"}));

  auto dave = select_grant(*config, person("dave", {"sales", "engineering"}), "app");
  ASSERT_TRUE(dave.ok()) << dave.error().message;
  EXPECT_EQ(dave->rule, "engineers");
  EXPECT_EQ(dave->credentials->user, "app_ro");
  EXPECT_EQ(dave->connection->name, "app");
}

TEST(SelectGrant, RefusesWithTheConnectionNamedWhenNoRuleMatches) {
  auto config = load(kConfig);
  ASSERT_TRUE(config);
  auto refused = select_grant(*config, person("erin", {"sales"}), "app");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "no access rule grants \"erin\" the connection \"app\"");
}

TEST(SelectGrant, RefusesAnUnknownConnection) {
  auto config = load(kConfig);
  ASSERT_TRUE(config);
  auto refused = select_grant(*config, person("carol", {}), "nope");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "unknown connection \"nope\"");
}

TEST(SelectGrant, EveryCriterionOfWhoMustHold) {
  auto config = load(kConfig);
  ASSERT_TRUE(config);
  // Group matches but the kind does not: a user is not a service.
  EXPECT_FALSE(select_grant(*config, person("dave", {"engineering"}), "other").ok());
  auto bot = select_grant(
      *config, person("ci-bot", {"engineering"}, identity::SubjectKind::service), "other");
  ASSERT_TRUE(bot.ok()) << bot.error().message;
  EXPECT_EQ(bot->rule, "bots");
  EXPECT_EQ(bot->credentials->user, "other_rw");
}

TEST(Decide, AllowsWhatTheGrantReachesAndNamesTheGrantsRule) {
  auto config = load(kConfig);
  ASSERT_TRUE(config);
  auto grant = select_grant(*config, person("carol", {}), "app");
  ASSERT_TRUE(grant.ok());
  Command command;
  command.protocol = "postgres";
  command.connection = "app";
  command.text = "select 1";
  auto classification = std::make_shared<sql::Classification>();
  sql::Statement select;
  select.kind = "select";
  select.classes = static_cast<sql::ClassSet>(sql::StatementClass::read);
  classification->statements.push_back(select);
  command.sql()->classification = classification;
  const auto decision = decide(*config, person("carol", {}), *grant, command);
  EXPECT_EQ(decision.verdict, Verdict::allow);
  EXPECT_EQ(decision.rule, "ops-person");
}

// Just-in-time access: "prod" has a rule that needs an approved request before an everyday
// read-only rule; "vault" has only a rule that needs a request.
constexpr std::string_view kJitConfig = R"(
connections:
  - name: prod
    kind: postgres
    address: 127.0.0.1:5432
    database: prod
    credentials:
      default: { user: prod_rw }
      readonly: { user: prod_ro }
  - name: vault
    kind: postgres
    address: 127.0.0.1:5433
    database: vault
    credentials:
      default: { user: vault_rw }
access:
  - name: jit-prod
    who: { groups: [engineering] }
    connections: [prod]
    credentials: default
    allow: [read, write]
    requires_request: true
    reviewers: { groups: [sre] }
    max_duration: 2h
  - name: engineers-read
    who: { groups: [engineering] }
    connections: [prod]
    credentials: readonly
    allow: [read]
  - name: jit-vault
    who: { groups: [engineering] }
    connections: [vault]
    allow: [read]
    requires_request: true
    reviewers: { subjects: [sam] }
)";

using RequestTime = std::optional<std::chrono::system_clock::time_point>;

const std::chrono::system_clock::time_point kGrantEnd =
    std::chrono::system_clock::time_point(std::chrono::seconds(1'700'003'600));

TEST(SelectGrant, SkipsARuleThatRequiresARequestWhenThereIsNoCheck) {
  auto config = load(kJitConfig);
  ASSERT_TRUE(config);
  auto prod = select_grant(*config, person("dave", {"engineering"}), "prod");
  ASSERT_TRUE(prod.ok()) << prod.error().message;
  EXPECT_EQ(prod->rule, "engineers-read");
  EXPECT_EQ(prod->credentials->user, "prod_ro");
  EXPECT_FALSE(prod->expires_at);

  auto vault = select_grant(*config, person("dave", {"engineering"}), "vault");
  ASSERT_FALSE(vault.ok());
  EXPECT_NE(vault.error().message.find("needs an approved access request"), std::string::npos)
      << vault.error().message;
  EXPECT_NE(vault.error().message.find("\"vault\""), std::string::npos) << vault.error().message;
}

TEST(SelectGrant, SkipsARuleThatRequiresARequestWhenNoneIsApproved) {
  auto config = load(kJitConfig);
  ASSERT_TRUE(config);
  std::vector<std::string> checked;
  const AccessRequestCheck none = [&](const config::AccessRuleConfig& rule) -> Result<RequestTime> {
    checked.push_back(rule.name);
    return RequestTime();
  };
  auto vault = select_grant(*config, person("dave", {"engineering"}), "vault", none);
  ASSERT_FALSE(vault.ok());
  EXPECT_NE(vault.error().message.find("needs an approved access request"), std::string::npos)
      << vault.error().message;
  EXPECT_EQ(checked, std::vector<std::string>{"jit-vault"});

  // A later rule that needs no request still grants.
  checked.clear();
  auto prod = select_grant(*config, person("dave", {"engineering"}), "prod", none);
  ASSERT_TRUE(prod.ok()) << prod.error().message;
  EXPECT_EQ(prod->rule, "engineers-read");
  EXPECT_EQ(prod->allow, std::vector<std::string>{"read"});
  EXPECT_FALSE(prod->expires_at);
  EXPECT_EQ(checked, std::vector<std::string>{"jit-prod"});
}

TEST(SelectGrant, UsesARuleThatRequiresARequestWhileOneIsApproved) {
  auto config = load(kJitConfig);
  ASSERT_TRUE(config);
  const AccessRequestCheck approved = [](const config::AccessRuleConfig&) -> Result<RequestTime> {
    return RequestTime(kGrantEnd);
  };
  auto prod = select_grant(*config, person("dave", {"engineering"}), "prod", approved);
  ASSERT_TRUE(prod.ok()) << prod.error().message;
  EXPECT_EQ(prod->rule, "jit-prod");
  EXPECT_EQ(prod->credentials->user, "prod_rw");
  EXPECT_EQ(prod->allow, (std::vector<std::string>{"read", "write"}));
  ASSERT_TRUE(prod->expires_at);
  EXPECT_EQ(*prod->expires_at, kGrantEnd);

  auto vault = select_grant(*config, person("dave", {"engineering"}), "vault", approved);
  ASSERT_TRUE(vault.ok()) << vault.error().message;
  EXPECT_EQ(vault->rule, "jit-vault");
  EXPECT_EQ(vault->expires_at, kGrantEnd);
}

TEST(SelectGrant, RefusesWhenTheRequestCheckFails) {
  auto config = load(kJitConfig);
  ASSERT_TRUE(config);
  const AccessRequestCheck failing = [](const config::AccessRuleConfig&) -> Result<RequestTime> {
    return make_error("unavailable", "the review store is unavailable");
  };
  // Not granted by the everyday rule behind it: an error refuses the connection.
  auto prod = select_grant(*config, person("dave", {"engineering"}), "prod", failing);
  ASSERT_FALSE(prod.ok());
  EXPECT_EQ(prod.error().message, "the review store is unavailable");
}

TEST(SelectGrant, ChecksRequestsOnlyForRulesThatMatchTheCaller) {
  auto config = load(kJitConfig);
  ASSERT_TRUE(config);
  int checks = 0;
  const AccessRequestCheck counting = [&](const config::AccessRuleConfig&) -> Result<RequestTime> {
    ++checks;
    return RequestTime(kGrantEnd);
  };
  auto refused = select_grant(*config, person("erin", {"sales"}), "vault", counting);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "no access rule grants \"erin\" the connection \"vault\"");
  EXPECT_EQ(checks, 0);
  // The first rule that matches and needs no request is decided without a check.
  auto config_plain = load(kConfig);
  ASSERT_TRUE(config_plain);
  auto carol = select_grant(*config_plain, person("carol", {}), "app", counting);
  ASSERT_TRUE(carol.ok()) << carol.error().message;
  EXPECT_FALSE(carol->expires_at);
  EXPECT_EQ(checks, 0);
}

}  // namespace
}  // namespace portcullis::policy
