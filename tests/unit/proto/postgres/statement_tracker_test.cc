// Prepared statements and portals of one connection, and the text form of bound values that
// policy rules see.
#include "proto/postgres/statement_tracker.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace portcullis::proto::postgres {
namespace {

using namespace std::string_literals;

Parse parse_of(std::string_view name, std::string_view query) {
  Parse parse;
  parse.statement = name;
  parse.query = query;
  return parse;
}

Bind bind_of(std::string_view portal, std::string_view statement,
             std::vector<std::optional<std::string_view>> params = {},
             std::vector<int16_t> formats = {}) {
  Bind bind;
  bind.portal = portal;
  bind.statement = statement;
  bind.parameters = std::move(params);
  bind.parameter_formats = std::move(formats);
  return bind;
}

DescribeOrClose close_of(char target, std::string_view name) {
  DescribeOrClose close;
  close.target = target;
  close.name = name;
  return close;
}

// Applies everything pending as the backend would answer a successful batch.
void confirm(StatementTracker& tracker, std::initializer_list<char> answers) {
  for (char answer : answers) {
    switch (answer) {
      case '1':
        ASSERT_TRUE(tracker.on_parse_complete());
        break;
      case '2':
        ASSERT_TRUE(tracker.on_bind_complete());
        break;
      case '3':
        ASSERT_TRUE(tracker.on_close_complete());
        break;
      case 'E':
        tracker.on_error();
        break;
      case 'Z':
        tracker.on_ready_for_query();
        break;
    }
  }
}

std::string text_of(const StatementTracker& tracker, std::string_view portal) {
  const auto* state = tracker.portal(portal);
  return state == nullptr ? "<none>" : *state->text;
}

TEST(StatementTracker, PendingChangesAreVisibleWithinTheirBatch) {
  StatementTracker tracker;
  tracker.on_parse(parse_of("s1", "SELECT $1"));
  tracker.on_bind(bind_of("p1", "s1", {"42"}));
  // Parse, Bind and Execute arrive together: the Execute is judged on the pending state.
  ASSERT_NE(tracker.portal("p1"), nullptr);
  EXPECT_EQ(*tracker.portal("p1")->text, "SELECT $1");
  EXPECT_EQ(tracker.portal("p1")->statement, "s1");
  EXPECT_EQ(tracker.portal("p1")->params, (std::vector<std::optional<std::string>>{"42"}));
  tracker.on_sync_point();
  confirm(tracker, {'1', '2', 'Z'});
  EXPECT_EQ(tracker.pending(), 0u);
  EXPECT_EQ(text_of(tracker, "p1"), "SELECT $1");
  ASSERT_NE(tracker.statement("s1"), nullptr);
  EXPECT_EQ(*tracker.statement("s1"), "SELECT $1");
}

TEST(StatementTracker, ChangesOfAFailedBatchAreDropped) {
  StatementTracker tracker;
  tracker.on_parse(parse_of("s", "SELECT 'benign'"));
  tracker.on_sync_point();
  // The backend rejects the Parse (an unknown table, say): the statement never exists.
  confirm(tracker, {'E', 'Z'});
  EXPECT_EQ(tracker.statement("s"), nullptr);
  // So a later Parse of the same name is what the backend runs, and what is judged.
  tracker.on_parse(parse_of("s", "DELETE FROM t"));
  tracker.on_bind(bind_of("p", "s"));
  tracker.on_sync_point();
  confirm(tracker, {'1', '2', 'Z'});
  EXPECT_EQ(text_of(tracker, "p"), "DELETE FROM t");
}

TEST(StatementTracker, ReparseOfAnExistingNamedStatementKeepsTheFirstText) {
  StatementTracker tracker;
  tracker.on_parse(parse_of("s1", "SELECT 'forbidden'"));
  tracker.on_sync_point();
  confirm(tracker, {'1', 'Z'});
  // PostgreSQL refuses the duplicate (42P05) and keeps the first statement.
  tracker.on_parse(parse_of("s1", "SELECT 'benign'"));
  tracker.on_sync_point();
  confirm(tracker, {'E', 'Z'});
  tracker.on_bind(bind_of("p", "s1"));
  EXPECT_EQ(text_of(tracker, "p"), "SELECT 'forbidden'");
}

TEST(StatementTracker, PortalsKeepTheirTextWhenTheUnnamedStatementIsReparsed) {
  StatementTracker tracker;
  tracker.on_parse(parse_of("", "SELECT 'a'"));
  tracker.on_bind(bind_of("p", ""));
  tracker.on_parse(parse_of("", "SELECT 'b'"));
  tracker.on_sync_point();
  confirm(tracker, {'1', '2', '1', 'Z'});
  // PostgreSQL runs the portal's own plan: 'a'.
  EXPECT_EQ(text_of(tracker, "p"), "SELECT 'a'");
  tracker.on_bind(bind_of("", ""));
  EXPECT_EQ(text_of(tracker, ""), "SELECT 'b'");
}

TEST(StatementTracker, PortalsOutliveTheClosedStatement) {
  StatementTracker tracker;
  tracker.on_parse(parse_of("s", "SELECT 'a'"));
  tracker.on_bind(bind_of("p2", "s"));
  tracker.on_close(close_of('S', "s"));
  tracker.on_sync_point();
  confirm(tracker, {'1', '2', '3', 'Z'});
  EXPECT_EQ(tracker.statement("s"), nullptr);
  EXPECT_EQ(text_of(tracker, "p2"), "SELECT 'a'");
}

TEST(StatementTracker, CloseOfPortalForgetsIt) {
  StatementTracker tracker;
  tracker.on_parse(parse_of("s", "SELECT 1"));
  tracker.on_bind(bind_of("p", "s"));
  tracker.on_close(close_of('P', "p"));
  EXPECT_EQ(tracker.portal("p"), nullptr);
  tracker.on_sync_point();
  confirm(tracker, {'1', '2', '3', 'Z'});
  EXPECT_EQ(tracker.portal("p"), nullptr);
  EXPECT_NE(tracker.statement("s"), nullptr);
}

TEST(StatementTracker, PortalOfAnUnknownStatementIsUnknown) {
  StatementTracker tracker;
  // A statement made with SQL PREPARE, which the tracker never saw.
  tracker.on_bind(bind_of("p", "made_with_sql_prepare"));
  EXPECT_EQ(tracker.portal("p"), nullptr);
  tracker.on_sync_point();
  confirm(tracker, {'2', 'Z'});
  EXPECT_EQ(tracker.portal("p"), nullptr);
}

TEST(StatementTracker, AnErrorDropsOnlyItsOwnBatch) {
  StatementTracker tracker;
  tracker.on_parse(parse_of("a", "SELECT 'a'"));
  tracker.on_sync_point();
  tracker.on_parse(parse_of("b", "SELECT 'b'"));
  tracker.on_sync_point();
  confirm(tracker, {'E', 'Z', '1', 'Z'});
  EXPECT_EQ(tracker.statement("a"), nullptr);
  ASSERT_NE(tracker.statement("b"), nullptr);
}

TEST(StatementTracker, UnexpectedCompletionIsReported) {
  StatementTracker tracker;
  EXPECT_FALSE(tracker.on_parse_complete());
  tracker.on_parse(parse_of("s", "SELECT 1"));
  EXPECT_FALSE(tracker.on_bind_complete());
  EXPECT_FALSE(tracker.on_close_complete());
  EXPECT_TRUE(tracker.on_parse_complete());
}

TEST(StatementTracker, RendersBinaryParametersAsHexAndKeepsNulls) {
  StatementTracker tracker;
  tracker.on_parse(parse_of("s", "INSERT INTO t VALUES ($1, $2, $3)"));
  const std::string binary = "\x00\x01\xab\xff"s;
  tracker.on_bind(bind_of("", "s", {"text", binary, std::nullopt}, {0, 1, 1}));
  const auto* portal = tracker.portal("");
  ASSERT_NE(portal, nullptr);
  EXPECT_EQ(portal->params,
            (std::vector<std::optional<std::string>>{"text", "\\x0001abff", std::nullopt}));
}

TEST(StatementTracker, AppliesOneFormatCodeToEveryParameter) {
  StatementTracker tracker;
  tracker.on_parse(parse_of("s", "SELECT $1, $2"));
  tracker.on_bind(bind_of("", "s", {"AB", std::nullopt}, {1}));
  EXPECT_EQ(tracker.portal("")->params,
            (std::vector<std::optional<std::string>>{"\\x4142", std::nullopt}));
  tracker.on_bind(bind_of("", "s", {"AB", ""}, {0}));
  EXPECT_EQ(tracker.portal("")->params, (std::vector<std::optional<std::string>>{"AB", ""}));
}

TEST(ParameterText, KeepsTextAndHexesBinary) {
  EXPECT_EQ(parameter_text("it's", false), "it's");
  EXPECT_EQ(parameter_text("", true), "\\x");
  EXPECT_EQ(parameter_text("\x7f\x80\x10"s, true), "\\x7f8010");
}

}  // namespace
}  // namespace portcullis::proto::postgres
