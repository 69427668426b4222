// Grant selection and the decision point on configurations loaded the way the gateway loads
// them.
#include "policy/access.h"

#include <gtest/gtest.h>

#include "policy/config_loader.h"
#include "policy/decide.h"

namespace portcullis::policy {
namespace {

ConfigPtr load(std::string_view yaml) {
  auto config = parse_config(yaml, "/tmp/access-test/portcullis.yaml");
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
  command.classification = classification;
  const auto decision = decide(*config, person("carol", {}), *grant, command);
  EXPECT_EQ(decision.verdict, Verdict::allow);
  EXPECT_EQ(decision.rule, "ops-person");
}

}  // namespace
}  // namespace portcullis::policy
