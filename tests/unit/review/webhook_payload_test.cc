// What a webhook receiver is sent: both bodies are JSON and carry the review; the Slack one
// is safe to show whatever the requester typed.
#include "review/webhook_payload.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <string>

namespace portcullis::review {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// 2026-11-25T21:04:05Z
const store::TimePoint kCreated =
    std::chrono::sys_days{std::chrono::year{2026} / 11 / 25} + 21h + 4min + 5s;

Notification pending_statement() {
  Notification n;
  n.event = std::string(kNotifyReviewPending);
  n.api_url = "https://gateway.example.com:18080/";
  store::ReviewRecord& r = n.review;
  r.id = "r-7k3qx9p2m4";
  r.kind = store::ReviewKind::statement;
  r.status = store::ReviewStatus::pending;
  r.requester = "alice";
  r.session = "s-1f2e3d";
  r.connection = "app-db";
  r.command = "DELETE FROM orders";
  r.rule = "unbounded-writes-need-approval";
  r.reviewer_groups = {"dba"};
  r.min_approvals = 2;
  r.created_at = kCreated;
  r.expires_at = kCreated + 120s;
  r.votes.push_back({"bob", true, "ok for the cleanup", kCreated + 30s});
  return n;
}

Notification access_request() {
  Notification n;
  n.event = std::string(kNotifyAccessRequested);
  store::ReviewRecord& r = n.review;
  r.id = "r-a1b2c3d4e5";
  r.kind = store::ReviewKind::access;
  r.requester = "carol";
  r.connection = "billing-db";
  r.rule = "billing-on-request";
  r.reviewer_subjects = {"dave"};
  r.reason = "INC-1234";
  r.duration = 30min;
  r.created_at = kCreated;
  r.expires_at = kCreated + 24h;
  return n;
}

json::object parse_object(const std::string& text) {
  json::value value = json::parse(text);  // throws on invalid JSON or UTF-8
  EXPECT_TRUE(value.is_object()) << text;
  return value.as_object();
}

std::string text_of(const json::value& value) {
  return std::string(value.as_string());
}

// Every mrkdwn text and plain text of a Slack message, one after the other.
std::string all_block_text(const json::object& message) {
  std::string out;
  for (const auto& block : message.at("blocks").as_array()) {
    const auto& b = block.as_object();
    if (const auto* text = b.if_contains("text")) out += text_of(text->at("text")) + "\n";
    if (const auto* fields = b.if_contains("fields"))
      for (const auto& f : fields->as_array()) out += text_of(f.at("text")) + "\n";
    if (const auto* elements = b.if_contains("elements"))
      for (const auto& e : elements->as_array()) out += text_of(e.at("text")) + "\n";
  }
  return out;
}

TEST(WebhookPayload, GenericCarriesTheReviewAndHowToApprove) {
  const json::object out = parse_object(generic_payload(pending_statement()));
  EXPECT_EQ(out.at("event"), "review_pending");
  const json::object& review = out.at("review").as_object();
  EXPECT_EQ(review.at("id"), "r-7k3qx9p2m4");
  EXPECT_EQ(review.at("kind"), "statement");
  EXPECT_EQ(review.at("status"), "pending");
  EXPECT_EQ(review.at("requester"), "alice");
  EXPECT_EQ(review.at("connection"), "app-db");
  EXPECT_EQ(review.at("session"), "s-1f2e3d");
  EXPECT_EQ(review.at("command"), "DELETE FROM orders");
  EXPECT_EQ(review.at("rule"), "unbounded-writes-need-approval");
  EXPECT_EQ(review.at("reviewers").at("groups").as_array(), json::array{"dba"});
  EXPECT_EQ(review.at("min_approvals").to_number<int>(), 2);
  const json::array& approvals = review.at("approvals").as_array();
  ASSERT_EQ(approvals.size(), 1u);
  EXPECT_EQ(approvals[0].at("reviewer"), "bob");
  EXPECT_EQ(approvals[0].at("comment"), "ok for the cleanup");
  EXPECT_EQ(approvals[0].at("time"), "2026-11-25T21:04:35Z");
  EXPECT_EQ(review.at("created"), "2026-11-25T21:04:05Z");
  EXPECT_EQ(review.at("expires"), "2026-11-25T21:06:05Z");

  EXPECT_EQ(out.at("approve").at("cli"), "portcullis review approve r-7k3qx9p2m4 --comment '...'");
  EXPECT_EQ(out.at("approve").at("api"),
            "POST https://gateway.example.com:18080/api/v1/reviews/r-7k3qx9p2m4/approve");
  EXPECT_EQ(out.at("reject").at("cli"), "portcullis review reject r-7k3qx9p2m4 --comment '...'");
}

TEST(WebhookPayload, GenericLeavesOutEmptyFields) {
  const json::object out = parse_object(generic_payload(access_request()));
  const json::object& review = out.at("review").as_object();
  EXPECT_EQ(review.at("kind"), "access");
  EXPECT_EQ(review.at("reason"), "INC-1234");
  EXPECT_EQ(review.at("duration_s").to_number<int>(), 1800);
  EXPECT_EQ(review.at("reviewers").at("subjects").as_array(), json::array{"dave"});
  for (const char* absent : {"command", "session", "approvals", "decided_by", "comment", "decided",
                             "grant_expires", "executed"})
    EXPECT_FALSE(review.contains(absent)) << absent;
  EXPECT_FALSE(review.at("reviewers").as_object().contains("groups"));
  // No API URL configured: only the CLI line.
  EXPECT_TRUE(out.at("approve").as_object().contains("cli"));
  EXPECT_FALSE(out.at("approve").as_object().contains("api"));
}

TEST(WebhookPayload, GenericOffersNoApprovalOnceDecided) {
  Notification n = pending_statement();
  n.event = std::string(kNotifyApproved);
  n.review.status = store::ReviewStatus::approved;
  n.review.decided_by = "erin";
  n.review.comment = "fine";
  n.review.decided_at = kCreated + 1min;
  n.review.grant_expires_at = kCreated + 16min;
  const json::object out = parse_object(generic_payload(n));
  EXPECT_EQ(out.at("event"), "approved");
  EXPECT_FALSE(out.contains("approve"));
  EXPECT_FALSE(out.contains("reject"));
  EXPECT_EQ(out.at("review").at("decided_by"), "erin");
  EXPECT_EQ(out.at("review").at("decided"), "2026-11-25T21:05:05Z");
  EXPECT_EQ(out.at("review").at("grant_expires"), "2026-11-25T21:20:05Z");
}

TEST(WebhookPayload, InvalidUtf8BecomesReplacementCharacters) {
  Notification n = pending_statement();
  n.review.command = "SELECT '\xff\xfe' -- caf\xc3\xa9";
  const json::object out = parse_object(generic_payload(n));
  EXPECT_EQ(out.at("review").at("command"), "SELECT '\ufffd\ufffd' -- caf\u00e9");
  EXPECT_NO_THROW(json::parse(slack_payload(n)));
}

TEST(WebhookPayload, SlackCarriesTheStepCommandAndHowToApprove) {
  const json::object out = parse_object(slack_payload(pending_statement()));
  const std::string fallback = text_of(out.at("text"));
  EXPECT_NE(fallback.find("r-7k3qx9p2m4"), std::string::npos) << fallback;
  EXPECT_NE(fallback.find("alice"), std::string::npos) << fallback;
  EXPECT_EQ(out.at("blocks").at(0).at("type"), "header");
  EXPECT_EQ(out.at("blocks").at(0).at("text").at("text"), "Approval needed: a statement on app-db");
  const std::string text = all_block_text(out);
  for (const char* expected :
       {"*Requester*\nalice", "*Connection*\napp-db", "*Rule*\nunbounded-writes-need-approval",
        "```DELETE FROM orders```", "`portcullis review approve r-7k3qx9p2m4 --comment '...'`",
        "POST https://gateway.example.com:18080/api/v1/reviews/"
        "r-7k3qx9p2m4/approve",
        "1 of 2 approvals", "expires 2026-11-25T21:06:05Z"})
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\nin:\n" << text;
}

TEST(WebhookPayload, SlackEscapesMrkdwnControlCharacters) {
  Notification n = pending_statement();
  n.review.command = "SELECT 1 WHERE a <> b && c > d";
  n.review.requester = "<!channel>";
  const std::string text = all_block_text(parse_object(slack_payload(n)));
  EXPECT_NE(text.find("```SELECT 1 WHERE a &lt;&gt; b &amp;&amp; c &gt; d```"), std::string::npos)
      << text;
  EXPECT_NE(text.find("&lt;!channel&gt;"), std::string::npos) << text;
  EXPECT_EQ(text.find("<!channel>"), std::string::npos) << text;
}

TEST(WebhookPayload, SlackCodeBlockCannotBeClosedByTheCommand) {
  Notification n = pending_statement();
  n.review.command = "SELECT 1 ``` *bold* ```";
  const std::string text = all_block_text(parse_object(slack_payload(n)));
  const std::size_t open = text.find("```");
  ASSERT_NE(open, std::string::npos);
  const std::size_t close = text.find("```", open + 3);
  ASSERT_NE(close, std::string::npos);
  // The first fence after the opening one is the closing one, after the whole statement.
  EXPECT_NE(text.substr(open, close - open).find("*bold*"), std::string::npos) << text;
}

TEST(WebhookPayload, SlackTruncatesLongCommands) {
  Notification n = pending_statement();
  n.review.command = "SELECT " + std::string(10000, '&');
  const json::object out = parse_object(slack_payload(n));
  bool found = false;
  for (const auto& block : out.at("blocks").as_array()) {
    const auto* text = block.as_object().if_contains("text");
    if (text == nullptr) continue;
    const std::string s = text_of(text->at("text"));
    if (s.find("*Statement*") == std::string::npos) continue;
    found = true;
    EXPECT_LE(s.size(), 3000u);  // Slack's limit for a section's text
    EXPECT_NE(s.find("more bytes not shown"), std::string::npos) << s;
    EXPECT_NE(s.find("portcullis review show r-7k3qx9p2m4"), std::string::npos) << s;
    // Cut between escapes, never inside one.
    const std::size_t fence = s.rfind("```");
    EXPECT_TRUE(s.substr(0, fence).ends_with("&amp;")) << s.substr(fence - 20, 40);
  }
  EXPECT_TRUE(found);
}

TEST(WebhookPayload, SlackTruncationKeepsUtf8Whole) {
  Notification n = pending_statement();
  n.review.command = std::string(1999, 'x');
  for (int i = 0; i < 100; ++i) n.review.command += "\xc3\xa9";  // é, two bytes each
  EXPECT_NO_THROW(json::parse(slack_payload(n)));                // the parser checks UTF-8
}

TEST(WebhookPayload, SlackDescribesAnAccessRequestAndADecision) {
  const json::object request = parse_object(slack_payload(access_request()));
  EXPECT_EQ(request.at("blocks").at(0).at("text").at("text"), "Access requested to billing-db");
  const std::string text = all_block_text(request);
  EXPECT_NE(text.find("*Duration*\n30m"), std::string::npos) << text;
  EXPECT_NE(text.find("*Reason*\nINC-1234"), std::string::npos) << text;
  EXPECT_EQ(text.find("*Statement*"), std::string::npos) << text;

  Notification rejected = access_request();
  rejected.event = std::string(kNotifyRejected);
  rejected.review.status = store::ReviewStatus::rejected;
  rejected.review.decided_by = "dave";
  rejected.review.comment = "not during the freeze";
  const json::object decision = parse_object(slack_payload(rejected));
  EXPECT_EQ(decision.at("blocks").at(0).at("text").at("text"), "Rejected: review r-a1b2c3d4e5");
  const std::string decided = all_block_text(decision);
  EXPECT_NE(decided.find("*Decided by*\ndave"), std::string::npos) << decided;
  EXPECT_NE(decided.find("*Comment*\nnot during the freeze"), std::string::npos) << decided;
  EXPECT_EQ(decided.find("To approve"), std::string::npos) << decided;
}

}  // namespace
}  // namespace portcullis::review
