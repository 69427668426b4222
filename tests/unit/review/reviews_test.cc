// The approval workflow's state machine over a real SQLite state store: held statements, votes
// and who may cast them, watchers, claiming an approved statement, just-in-time access,
// expiry, and the pending gauge.
#include "review/reviews.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"

namespace portcullis::review {
namespace {

using namespace std::chrono_literals;

// Whole milliseconds: the store keeps times to the millisecond.
const TimePoint kNow = TimePoint(std::chrono::milliseconds(1'700'000'000'123));

constexpr auto kGrantLifetime = 15min;
constexpr auto kPendingLifetime = 1h;
constexpr auto kMaxDuration = 2h;

constexpr std::string_view kStatement = "DELETE FROM orders";
// sha256sum of kStatement.
constexpr std::string_view kStatementSha256 =
    "fe38fe1b1ab3d801a3f065f337a8e56ffdf3a712726b170e0b43d3e7bc2f7a8d";

identity::Identity person(std::string subject, std::vector<std::string> groups) {
  identity::Identity id;
  id.subject = std::move(subject);
  id.groups = std::move(groups);
  return id;
}

// The requester is in the reviewers' group too: only being the requester keeps her out.
const identity::Identity kAlice = person("alice", {"engineering", "dba"});
const identity::Identity kBob = person("bob", {"dba"});      // reviewer by group
const identity::Identity kCarol = person("carol", {});       // reviewer by subject
const identity::Identity kDave = person("dave", {"dba"});    // reviewer by group
const identity::Identity kErin = person("erin", {"sales"});  // nobody's reviewer
const identity::Identity kSam = person("sam", {"sre"});      // reviews access requests

std::shared_ptr<config::Config> make_config() {
  auto config = std::make_shared<config::Config>();
  config->reviews.grant_lifetime = kGrantLifetime;
  config->reviews.pending_lifetime = kPendingLifetime;
  config->notifications.api_url = "https://gateway.example.com:18080";

  config::AccessRuleConfig everyday;
  everyday.name = "engineers-read";
  everyday.who.groups = {"engineering"};
  everyday.connections = {"app-db"};
  everyday.allow = {"read"};
  config->access.push_back(everyday);

  config::AccessRuleConfig jit;
  jit.name = "jit-prod";
  jit.who.groups = {"engineering"};
  jit.connections = {"prod-db"};
  jit.allow = {"read", "write"};
  jit.requires_request = true;
  jit.reviewers.groups = {"sre"};
  jit.reviewers.subjects = {"carol"};
  jit.min_approvals = 1;
  jit.max_duration = kMaxDuration;
  config->access.push_back(jit);
  return config;
}

policy::Decision review_decision(std::size_t min_approvals = 1) {
  policy::Decision d;
  d.verdict = policy::Verdict::review;
  d.rule = "unbounded-writes";
  d.reviewer_groups = {"dba"};
  d.reviewer_subjects = {"carol"};
  d.min_approvals = min_approvals;
  d.wait = 120s;
  return d;
}

class ReviewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_state_store("sqlite://" + (dir_ / "state.db").string());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    reviews_ = make_reviews();
  }

  std::unique_ptr<Reviews> make_reviews() {
    ReviewsWiring wiring;
    wiring.store = store_.get();
    wiring.journal = nullptr;
    wiring.instance = "test";
    wiring.notify = [this](Notification n) {
      std::lock_guard lock(notifications_mutex_);
      notifications_.push_back(std::move(n));
    };
    wiring.config = [this]() -> config::ConfigPtr { return config_; };
    return std::make_unique<Reviews>(std::move(wiring));
  }

  // Holds kStatement (or `text`) of alice on app-db for review.
  ReviewRecord hold(std::size_t min_approvals = 1, std::string text = std::string(kStatement),
                    TimePoint now = kNow) {
    const policy::Decision decision = review_decision(min_approvals);
    StatementHold h;
    h.requester = &kAlice;
    h.session = "s-1";
    h.connection = "app-db";
    h.text = text;
    h.recorded_text = text;
    h.decision = &decision;
    auto opened = reviews_->open_statement_review(h, now);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? *opened : ReviewRecord{};
  }

  // A held statement that bob approved at `decided`.
  ReviewRecord approved_statement(std::string text = std::string(kStatement),
                                  TimePoint decided = kNow + 1min) {
    const ReviewRecord held = hold(1, std::move(text));
    auto approved = reviews_->vote(held.id, kBob, true, "ok", decided);
    EXPECT_TRUE(approved) << approved.error().message;
    return approved ? *approved : ReviewRecord{};
  }

  Result<ReviewRecord> request(std::chrono::milliseconds duration = 30min,
                               std::string reason = "incident 123",
                               const identity::Identity& who = kAlice,
                               std::string connection = "prod-db", TimePoint now = kNow) {
    return reviews_->request_access(
        who, AccessRequest{std::move(connection), duration, std::move(reason)}, now);
  }

  ReviewRecord stored(const std::string& id) {
    auto found = store_->find_review(id);
    EXPECT_TRUE(found) << found.error().message;
    if (!found || !*found) {
      ADD_FAILURE() << "no review " << id;
      return {};
    }
    return **found;
  }

  std::vector<std::string> events() {
    std::lock_guard lock(notifications_mutex_);
    std::vector<std::string> out;
    for (const auto& n : notifications_) out.push_back(n.event);
    return out;
  }

  Notification last_notification() {
    std::lock_guard lock(notifications_mutex_);
    EXPECT_FALSE(notifications_.empty());
    return notifications_.empty() ? Notification{} : notifications_.back();
  }

  testing::TempDir dir_{"portcullis-reviews-"};
  std::unique_ptr<store::StateStore> store_;
  std::shared_ptr<config::Config> config_ = make_config();
  std::mutex notifications_mutex_;
  std::vector<Notification> notifications_;
  std::unique_ptr<Reviews> reviews_;
};

// ---- held statements --------------------------------------------------------------------

TEST_F(ReviewsTest, OpensAPendingStatementReviewInTheStore) {
  const ReviewRecord review = hold(2);
  EXPECT_EQ(review.kind, ReviewKind::statement);
  EXPECT_EQ(review.status, ReviewStatus::pending);
  EXPECT_EQ(review.requester, "alice");
  EXPECT_EQ(review.requester_groups, kAlice.groups);
  EXPECT_EQ(review.session, "s-1");
  EXPECT_EQ(review.connection, "app-db");
  EXPECT_EQ(review.command, kStatement);
  EXPECT_EQ(review.command_sha256, kStatementSha256);
  EXPECT_EQ(review.rule, "unbounded-writes");
  EXPECT_EQ(review.reviewer_groups, std::vector<std::string>{"dba"});
  EXPECT_EQ(review.reviewer_subjects, std::vector<std::string>{"carol"});
  EXPECT_EQ(review.min_approvals, 2u);
  EXPECT_EQ(review.created_at, kNow);
  EXPECT_EQ(review.expires_at, kNow + kPendingLifetime);
  EXPECT_TRUE(review.votes.empty());

  const ReviewRecord kept = stored(review.id);
  EXPECT_EQ(kept.status, ReviewStatus::pending);
  EXPECT_EQ(kept.command_sha256, kStatementSha256);
  EXPECT_EQ(kept.expires_at, kNow + kPendingLifetime);
}

TEST_F(ReviewsTest, StatementReviewIdIsRAndTwelveUnambiguousCharacters) {
  const ReviewRecord review = hold();
  ASSERT_EQ(review.id.size(), 14u) << review.id;
  EXPECT_EQ(review.id.substr(0, 2), "r-");
  EXPECT_EQ(review.id.find_first_not_of("abcdefghijkmnpqrstuvwxyz23456789", 2), std::string::npos)
      << review.id;
  EXPECT_NE(hold().id, review.id);
}

TEST_F(ReviewsTest, HashesTheExactTextButStoresTheRecordedOne) {
  const policy::Decision decision = review_decision();
  StatementHold h;
  h.requester = &kAlice;
  h.session = "s-1";
  h.connection = "app-db";
  h.text = std::string(kStatement);
  h.recorded_text = "DELETE FROM *** ";
  h.decision = &decision;
  auto opened = reviews_->open_statement_review(h, kNow);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(opened->command, "DELETE FROM *** ");
  EXPECT_EQ(opened->command_sha256, kStatementSha256);
}

TEST_F(ReviewsTest, AnnouncesAPendingStatementReview) {
  const ReviewRecord review = hold();
  EXPECT_EQ(events(), std::vector<std::string>{"review_pending"});
  const Notification n = last_notification();
  EXPECT_EQ(n.review.id, review.id);
  EXPECT_EQ(n.api_url, "https://gateway.example.com:18080");
}

TEST_F(ReviewsTest, AMinimumOfZeroApprovalsCountsAsOne) {
  const ReviewRecord review = hold(0);
  EXPECT_EQ(review.min_approvals, 1u);
}

// ---- votes ------------------------------------------------------------------------------

TEST_F(ReviewsTest, RequesterCannotApproveTheirOwnReview) {
  const ReviewRecord review = hold();
  auto voted = reviews_->vote(review.id, kAlice, true, "", kNow + 1min);
  ASSERT_FALSE(voted);
  EXPECT_EQ(voted.error().code, "forbidden");
  const ReviewRecord kept = stored(review.id);
  EXPECT_EQ(kept.status, ReviewStatus::pending);
  EXPECT_TRUE(kept.votes.empty());
  EXPECT_FALSE(Reviews::may_decide(kept, kAlice));
}

TEST_F(ReviewsTest, NonReviewerIsForbidden) {
  const ReviewRecord review = hold();
  auto voted = reviews_->vote(review.id, kErin, true, "", kNow + 1min);
  ASSERT_FALSE(voted);
  EXPECT_EQ(voted.error().code, "forbidden");
  EXPECT_EQ(stored(review.id).status, ReviewStatus::pending);
  auto rejected = reviews_->vote(review.id, kErin, false, "", kNow + 1min);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, "forbidden");
  EXPECT_EQ(stored(review.id).status, ReviewStatus::pending);
}

TEST_F(ReviewsTest, ReviewerByGroupApproves) {
  const ReviewRecord review = hold();
  auto approved = reviews_->vote(review.id, kBob, true, "looks fine", kNow + 1min);
  ASSERT_TRUE(approved) << approved.error().message;
  EXPECT_EQ(approved->status, ReviewStatus::approved);
  EXPECT_EQ(approved->decided_at, kNow + 1min);
  EXPECT_EQ(approved->decided_by, "bob");
  EXPECT_EQ(approved->comment, "looks fine");
  EXPECT_EQ(approved->grant_expires_at, kNow + 1min + kGrantLifetime);
  ASSERT_EQ(approved->votes.size(), 1u);
  EXPECT_EQ(approved->votes[0].reviewer, "bob");
  EXPECT_TRUE(approved->votes[0].approve);

  const ReviewRecord kept = stored(review.id);
  EXPECT_EQ(kept.status, ReviewStatus::approved);
  EXPECT_EQ(kept.grant_expires_at, kNow + 1min + kGrantLifetime);
  EXPECT_EQ(kept.votes.size(), 1u);
  EXPECT_EQ(events(), (std::vector<std::string>{"review_pending", "approved"}));
}

TEST_F(ReviewsTest, ReviewerBySubjectApproves) {
  const ReviewRecord review = hold();
  EXPECT_TRUE(Reviews::may_decide(review, kCarol));
  auto approved = reviews_->vote(review.id, kCarol, true, "", kNow + 1min);
  ASSERT_TRUE(approved) << approved.error().message;
  EXPECT_EQ(approved->status, ReviewStatus::approved);
  EXPECT_EQ(approved->decided_by, "carol");
}

TEST_F(ReviewsTest, TwoApprovalsNeedTwoDistinctReviewers) {
  const ReviewRecord review = hold(2);
  auto first = reviews_->vote(review.id, kBob, true, "", kNow + 1min);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->status, ReviewStatus::pending);
  EXPECT_FALSE(first->decided_at);
  EXPECT_FALSE(first->grant_expires_at);
  EXPECT_EQ(first->votes.size(), 1u);
  EXPECT_EQ(events(), std::vector<std::string>{"review_pending"});

  auto again = reviews_->vote(review.id, kBob, true, "", kNow + 2min);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "conflict");
  EXPECT_EQ(stored(review.id).status, ReviewStatus::pending);
  EXPECT_EQ(stored(review.id).votes.size(), 1u);

  auto second = reviews_->vote(review.id, kDave, true, "", kNow + 3min);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->status, ReviewStatus::approved);
  EXPECT_EQ(second->decided_by, "dave");
  EXPECT_EQ(second->grant_expires_at, kNow + 3min + kGrantLifetime);
  ASSERT_EQ(second->votes.size(), 2u);
  EXPECT_EQ(second->votes[0].reviewer, "bob");
  EXPECT_EQ(second->votes[1].reviewer, "dave");
}

TEST_F(ReviewsTest, ARejectionDecidesAtOnce) {
  const ReviewRecord review = hold(2);
  auto rejected = reviews_->vote(review.id, kBob, false, "no WHERE clause", kNow + 1min);
  ASSERT_TRUE(rejected) << rejected.error().message;
  EXPECT_EQ(rejected->status, ReviewStatus::rejected);
  EXPECT_EQ(rejected->decided_by, "bob");
  EXPECT_EQ(rejected->comment, "no WHERE clause");
  EXPECT_FALSE(rejected->grant_expires_at);
  EXPECT_EQ(stored(review.id).status, ReviewStatus::rejected);
  EXPECT_EQ(events(), (std::vector<std::string>{"review_pending", "rejected"}));
}

TEST_F(ReviewsTest, ARejectionAfterOneApprovalOfTwoDecides) {
  const ReviewRecord review = hold(2);
  ASSERT_TRUE(reviews_->vote(review.id, kBob, true, "", kNow + 1min));
  auto rejected = reviews_->vote(review.id, kDave, false, "", kNow + 2min);
  ASSERT_TRUE(rejected) << rejected.error().message;
  EXPECT_EQ(rejected->status, ReviewStatus::rejected);
  EXPECT_EQ(rejected->decided_by, "dave");
}

TEST_F(ReviewsTest, DecidingADecidedReviewIsAConflict) {
  const ReviewRecord approved = hold();
  ASSERT_TRUE(reviews_->vote(approved.id, kBob, true, "", kNow + 1min));
  for (bool approve : {true, false}) {
    auto late = reviews_->vote(approved.id, kDave, approve, "", kNow + 2min);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, "conflict");
  }
  EXPECT_EQ(stored(approved.id).status, ReviewStatus::approved);
  EXPECT_EQ(stored(approved.id).votes.size(), 1u);

  const ReviewRecord rejected = hold();
  ASSERT_TRUE(reviews_->vote(rejected.id, kBob, false, "", kNow + 1min));
  auto late = reviews_->vote(rejected.id, kCarol, true, "", kNow + 2min);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, "conflict");
  EXPECT_EQ(stored(rejected.id).status, ReviewStatus::rejected);
}

TEST_F(ReviewsTest, VotingOnAnUnknownReviewIsNotFound) {
  auto voted = reviews_->vote("r-nosuchreview", kBob, true, "", kNow);
  ASSERT_FALSE(voted);
  EXPECT_EQ(voted.error().code, "not_found");
}

TEST_F(ReviewsTest, AVoteOnAPendingReviewPastItsTimeExpiresIt) {
  const ReviewRecord review = hold();
  auto voted = reviews_->vote(review.id, kBob, true, "", kNow + kPendingLifetime);
  ASSERT_FALSE(voted);
  EXPECT_EQ(voted.error().code, "conflict");
  const ReviewRecord kept = stored(review.id);
  EXPECT_EQ(kept.status, ReviewStatus::expired);
  EXPECT_EQ(kept.decided_at, kNow + kPendingLifetime);
  EXPECT_TRUE(kept.votes.empty());
  EXPECT_FALSE(kept.grant_expires_at);
  EXPECT_EQ(events(), (std::vector<std::string>{"review_pending", "expired"}));
  EXPECT_EQ(reviews_->pending(), 0);

  auto again = reviews_->vote(review.id, kDave, true, "", kNow + kPendingLifetime + 1s);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, "conflict");
}

TEST_F(ReviewsTest, AVoteJustBeforeTheReviewExpiresCounts) {
  const ReviewRecord review = hold();
  auto voted = reviews_->vote(review.id, kBob, true, "", kNow + kPendingLifetime - 1ms);
  ASSERT_TRUE(voted) << voted.error().message;
  EXPECT_EQ(voted->status, ReviewStatus::approved);
}

// ---- watchers ---------------------------------------------------------------------------

TEST_F(ReviewsTest, WatcherIsCalledOnceWhenApproved) {
  const ReviewRecord review = hold();
  std::vector<ReviewRecord> seen;
  reviews_->watch(review.id, [&](const ReviewRecord& r) { seen.push_back(r); });
  ASSERT_TRUE(reviews_->vote(review.id, kBob, true, "", kNow + 1min));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].id, review.id);
  EXPECT_EQ(seen[0].status, ReviewStatus::approved);
  // Later attempts to decide it do not call the watcher again.
  EXPECT_FALSE(reviews_->vote(review.id, kDave, false, "", kNow + 2min));
  EXPECT_EQ(seen.size(), 1u);
}

// Two instances sharing one store: the one deciding tells the others (the `decided` hook), and
// the one holding the statement wakes its watcher when it re-reads the review (refresh).
TEST_F(ReviewsTest, AReviewDecidedOnAnotherInstanceWakesTheWatcherHere) {
  std::vector<std::string> told;
  ReviewsWiring other_wiring;
  other_wiring.store = store_.get();
  other_wiring.instance = "other";
  other_wiring.config = [this]() -> config::ConfigPtr { return config_; };
  Reviews other(std::move(other_wiring));
  other.set_decided_hook([&](const ReviewRecord& r) { told.push_back(r.id); });

  const ReviewRecord review = hold();
  std::vector<ReviewStatus> seen;
  reviews_->watch(review.id, [&](const ReviewRecord& r) { seen.push_back(r.status); });
  reviews_->refresh(review.id);  // still pending: nobody woken
  EXPECT_TRUE(seen.empty());

  ASSERT_TRUE(other.vote(review.id, kBob, true, "ok", kNow + 1s));
  EXPECT_EQ(told, std::vector<std::string>{review.id});
  EXPECT_TRUE(seen.empty());  // the other instance's own watchers only
  EXPECT_EQ(reviews_->pending(), 1);

  reviews_->refresh(review.id);
  EXPECT_EQ(seen, std::vector<ReviewStatus>{ReviewStatus::approved});
  EXPECT_EQ(reviews_->pending(), 0);
  reviews_->refresh(review.id);  // once only
  EXPECT_EQ(seen.size(), 1u);
}

// Word missed while disconnected: every watched review is read again.
TEST_F(ReviewsTest, RefreshWatchedWakesEveryWatcherOfADecidedReview) {
  ReviewsWiring other_wiring;
  other_wiring.store = store_.get();
  other_wiring.config = [this]() -> config::ConfigPtr { return config_; };
  Reviews other(std::move(other_wiring));
  const ReviewRecord first = hold(1, "DELETE FROM a");
  const ReviewRecord second = hold(1, "DELETE FROM b");
  int first_calls = 0;
  int second_calls = 0;
  reviews_->watch(first.id, [&](const ReviewRecord&) { ++first_calls; });
  reviews_->watch(first.id, [&](const ReviewRecord&) { ++first_calls; });
  reviews_->watch(second.id, [&](const ReviewRecord&) { ++second_calls; });
  ASSERT_TRUE(other.vote(first.id, kBob, false, "no", kNow + 1s));

  reviews_->refresh_watched();
  EXPECT_EQ(first_calls, 2);
  EXPECT_EQ(second_calls, 0);
  EXPECT_EQ(reviews_->pending(), 1);
}

TEST_F(ReviewsTest, WatcherIsCalledOnceWhenRejected) {
  const ReviewRecord review = hold(2);
  int calls = 0;
  ReviewStatus status = ReviewStatus::pending;
  reviews_->watch(review.id, [&](const ReviewRecord& r) {
    ++calls;
    status = r.status;
  });
  ASSERT_TRUE(reviews_->vote(review.id, kBob, false, "", kNow + 1min));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(status, ReviewStatus::rejected);
}

TEST_F(ReviewsTest, WatcherWaitsForTheLastApprovalNeeded) {
  const ReviewRecord review = hold(2);
  int calls = 0;
  reviews_->watch(review.id, [&](const ReviewRecord&) { ++calls; });
  ASSERT_TRUE(reviews_->vote(review.id, kBob, true, "", kNow + 1min));
  EXPECT_EQ(calls, 0);
  ASSERT_FALSE(reviews_->vote(review.id, kErin, true, "", kNow + 2min));
  EXPECT_EQ(calls, 0);
  ASSERT_TRUE(reviews_->vote(review.id, kDave, true, "", kNow + 3min));
  EXPECT_EQ(calls, 1);
}

TEST_F(ReviewsTest, WatcherIsNotCalledAfterUnwatch) {
  const ReviewRecord review = hold();
  int kept_calls = 0;
  int dropped_calls = 0;
  reviews_->watch(review.id, [&](const ReviewRecord&) { ++kept_calls; });
  const auto ticket = reviews_->watch(review.id, [&](const ReviewRecord&) { ++dropped_calls; });
  reviews_->unwatch(review.id, ticket);
  ASSERT_TRUE(reviews_->vote(review.id, kBob, true, "", kNow + 1min));
  EXPECT_EQ(dropped_calls, 0);
  EXPECT_EQ(kept_calls, 1);
}

TEST_F(ReviewsTest, WatcherOfAnotherReviewIsNotCalled) {
  const ReviewRecord decided = hold();
  const ReviewRecord other = hold();
  int calls = 0;
  reviews_->watch(other.id, [&](const ReviewRecord&) { ++calls; });
  ASSERT_TRUE(reviews_->vote(decided.id, kBob, true, "", kNow + 1min));
  EXPECT_EQ(calls, 0);
}

// ---- claiming an approved statement -----------------------------------------------------

TEST_F(ReviewsTest, ClaimsAnApprovedStatementForItsExactTextOnly) {
  const ReviewRecord approved = approved_statement();
  for (const char* near_miss :
       {"DELETE FROM orders ", "delete from orders", "DELETE  FROM orders", "DELETE FROM order"}) {
    auto claimed = reviews_->claim_approved_statement("alice", "app-db", near_miss, kNow + 2min);
    ASSERT_TRUE(claimed) << claimed.error().message;
    EXPECT_FALSE(*claimed) << near_miss;
  }
  EXPECT_EQ(stored(approved.id).status, ReviewStatus::approved);

  auto claimed = reviews_->claim_approved_statement("alice", "app-db", kStatement, kNow + 2min);
  ASSERT_TRUE(claimed) << claimed.error().message;
  ASSERT_TRUE(*claimed);
  EXPECT_EQ((*claimed)->id, approved.id);
  EXPECT_EQ((*claimed)->status, ReviewStatus::executed);
  EXPECT_EQ((*claimed)->executed_at, kNow + 2min);
  EXPECT_EQ(stored(approved.id).status, ReviewStatus::executed);
  EXPECT_EQ(stored(approved.id).executed_at, kNow + 2min);
}

TEST_F(ReviewsTest, ClaimsAnApprovedStatementOnlyOnce) {
  approved_statement();
  auto first = reviews_->claim_approved_statement("alice", "app-db", kStatement, kNow + 2min);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(*first);
  auto second = reviews_->claim_approved_statement("alice", "app-db", kStatement, kNow + 3min);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(*second);
}

TEST_F(ReviewsTest, ClaimsAnApprovedStatementOnlyWithinTheGrantLifetime) {
  const TimePoint decided = kNow + 1min;
  approved_statement(std::string(kStatement), decided);
  auto late =
      reviews_->claim_approved_statement("alice", "app-db", kStatement, decided + kGrantLifetime);
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_FALSE(*late);
  auto in_time = reviews_->claim_approved_statement("alice", "app-db", kStatement,
                                                    decided + kGrantLifetime - 1ms);
  ASSERT_TRUE(in_time) << in_time.error().message;
  EXPECT_TRUE(*in_time);
}

TEST_F(ReviewsTest, ClaimsOnlyTheRequestersStatementOnItsConnection) {
  approved_statement();
  for (auto [who, connection] : {std::pair{"bob", "app-db"}, std::pair{"alice", "other-db"}}) {
    auto claimed = reviews_->claim_approved_statement(who, connection, kStatement, kNow + 2min);
    ASSERT_TRUE(claimed) << claimed.error().message;
    EXPECT_FALSE(*claimed) << who << " on " << connection;
  }
}

TEST_F(ReviewsTest, ClaimsNothingPendingOrRejected) {
  hold();
  auto while_pending =
      reviews_->claim_approved_statement("alice", "app-db", kStatement, kNow + 1min);
  ASSERT_TRUE(while_pending) << while_pending.error().message;
  EXPECT_FALSE(*while_pending);

  const ReviewRecord rejected = hold(1, "UPDATE t SET x = 1");
  ASSERT_TRUE(reviews_->vote(rejected.id, kBob, false, "", kNow + 1min));
  auto after_rejection =
      reviews_->claim_approved_statement("alice", "app-db", "UPDATE t SET x = 1", kNow + 2min);
  ASSERT_TRUE(after_rejection) << after_rejection.error().message;
  EXPECT_FALSE(*after_rejection);
}

TEST_F(ReviewsTest, ClaimsTheApprovalOfTheMatchingTextAmongSeveral) {
  const ReviewRecord other = approved_statement("UPDATE t SET x = 1");
  const ReviewRecord wanted = approved_statement();
  auto claimed = reviews_->claim_approved_statement("alice", "app-db", kStatement, kNow + 2min);
  ASSERT_TRUE(claimed) << claimed.error().message;
  ASSERT_TRUE(*claimed);
  EXPECT_EQ((*claimed)->id, wanted.id);
  EXPECT_EQ(stored(other.id).status, ReviewStatus::approved);
}

TEST_F(ReviewsTest, MarkExecutedRecordsTheRun) {
  const ReviewRecord approved = approved_statement();
  auto marked = reviews_->mark_executed(approved.id, kNow + 2min);
  ASSERT_TRUE(marked) << marked.error().message;
  const ReviewRecord kept = stored(approved.id);
  EXPECT_EQ(kept.status, ReviewStatus::executed);
  EXPECT_EQ(kept.executed_at, kNow + 2min);
  // It ran: it cannot be claimed to run again.
  auto claimed = reviews_->claim_approved_statement("alice", "app-db", kStatement, kNow + 3min);
  ASSERT_TRUE(claimed) << claimed.error().message;
  EXPECT_FALSE(*claimed);
}

TEST_F(ReviewsTest, MarkExecutedRefusesAReviewThatIsNotApproved) {
  const ReviewRecord pending = hold();
  auto marked = reviews_->mark_executed(pending.id, kNow + 1min);
  ASSERT_FALSE(marked);
  EXPECT_EQ(marked.error().code, "conflict");
  EXPECT_EQ(stored(pending.id).status, ReviewStatus::pending);

  const ReviewRecord approved = approved_statement("UPDATE t SET x = 1");
  ASSERT_TRUE(reviews_->mark_executed(approved.id, kNow + 2min));
  auto twice = reviews_->mark_executed(approved.id, kNow + 3min);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, "conflict");
  EXPECT_EQ(stored(approved.id).executed_at, kNow + 2min);
}

// ---- just-in-time access ----------------------------------------------------------------

TEST_F(ReviewsTest, RequestAccessWithoutARuleThatNeedsARequestIsInvalid) {
  // erin matches no rule; alice's rule for app-db grants without a request.
  for (auto [who, connection] : {std::pair{&kErin, "prod-db"}, std::pair{&kAlice, "app-db"},
                                 std::pair{&kAlice, "nope-db"}}) {
    auto requested = request(30min, "incident 123", *who, connection);
    ASSERT_FALSE(requested) << who->subject << " on " << connection;
    EXPECT_EQ(requested.error().code, "invalid");
  }
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(reviews_->pending(), 0);
}

TEST_F(ReviewsTest, RequestAccessRefusesADurationOverTheMaximum) {
  for (auto duration : {std::chrono::milliseconds(kMaxDuration) + 1ms, std::chrono::milliseconds(0),
                        std::chrono::milliseconds(-1)}) {
    auto requested = request(duration);
    ASSERT_FALSE(requested) << duration.count();
    EXPECT_EQ(requested.error().code, "invalid");
  }
  auto at_most = request(kMaxDuration);
  ASSERT_TRUE(at_most) << at_most.error().message;
  EXPECT_EQ(at_most->duration, kMaxDuration);
}

TEST_F(ReviewsTest, RequestAccessNeedsAReason) {
  auto requested = request(30min, "");
  ASSERT_FALSE(requested);
  EXPECT_EQ(requested.error().code, "invalid");
  EXPECT_TRUE(events().empty());
}

TEST_F(ReviewsTest, RequestAccessRefusesAWhitespaceOnlyReason) {
  for (const char* blank : {" ", "   ", "\t\n", " \r\n\v\f "}) {
    auto requested = request(30min, blank);
    ASSERT_FALSE(requested) << "reason \"" << blank << "\"";
    EXPECT_EQ(requested.error().code, "invalid");
    EXPECT_EQ(requested.error().message, "a reason is required (it is empty or only whitespace)");
  }
  EXPECT_TRUE(events().empty());
}

TEST_F(ReviewsTest, RequestAccessOpensAPendingAccessReview) {
  auto requested = request(30min, "incident 123");
  ASSERT_TRUE(requested) << requested.error().message;
  EXPECT_EQ(requested->kind, ReviewKind::access);
  EXPECT_EQ(requested->status, ReviewStatus::pending);
  EXPECT_EQ(requested->id.size(), 14u);
  EXPECT_EQ(requested->requester, "alice");
  EXPECT_EQ(requested->connection, "prod-db");
  EXPECT_EQ(requested->rule, "jit-prod");
  EXPECT_EQ(requested->reviewer_groups, std::vector<std::string>{"sre"});
  EXPECT_EQ(requested->reviewer_subjects, std::vector<std::string>{"carol"});
  EXPECT_EQ(requested->min_approvals, 1u);
  EXPECT_EQ(requested->reason, "incident 123");
  EXPECT_EQ(requested->duration, 30min);
  EXPECT_EQ(requested->expires_at, kNow + kPendingLifetime);
  EXPECT_TRUE(requested->command.empty());

  const ReviewRecord kept = stored(requested->id);
  EXPECT_EQ(kept.kind, ReviewKind::access);
  EXPECT_EQ(kept.duration, 30min);
  EXPECT_EQ(events(), std::vector<std::string>{"access_requested"});
  EXPECT_EQ(last_notification().review.id, requested->id);
  EXPECT_EQ(reviews_->pending(), 1);
}

TEST_F(ReviewsTest, RefusesASecondAccessRequestWhilePendingOrGranted) {
  auto first = request(30min);
  ASSERT_TRUE(first) << first.error().message;
  auto while_pending = request(30min, "again");
  ASSERT_FALSE(while_pending);
  EXPECT_EQ(while_pending.error().code, "conflict");

  ASSERT_TRUE(reviews_->vote(first->id, kSam, true, "", kNow + 1min));
  auto while_granted = request(30min, "more", kAlice, "prod-db", kNow + 2min);
  ASSERT_FALSE(while_granted);
  EXPECT_EQ(while_granted.error().code, "conflict");
  EXPECT_EQ(reviews_->pending(), 0);
}

TEST_F(ReviewsTest, RequestAccessTakesTheRulesMinimumOfApprovals) {
  config_->access[1].min_approvals = 2;
  auto requested = request();
  ASSERT_TRUE(requested) << requested.error().message;
  EXPECT_EQ(requested->min_approvals, 2u);
  ASSERT_TRUE(reviews_->vote(requested->id, kSam, true, "", kNow + 1min));
  EXPECT_EQ(stored(requested->id).status, ReviewStatus::pending);
  auto approved = reviews_->vote(requested->id, kCarol, true, "", kNow + 2min);
  ASSERT_TRUE(approved) << approved.error().message;
  EXPECT_EQ(approved->status, ReviewStatus::approved);
}

TEST_F(ReviewsTest, AccessIsGrantedUntilApprovalPlusTheRequestedDuration) {
  auto requested = request(30min);
  ASSERT_TRUE(requested) << requested.error().message;
  auto before = reviews_->access_granted_until("alice", "prod-db", "jit-prod", kNow + 1min);
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_FALSE(*before);

  // Dba members review statements, not access requests.
  auto by_dba = reviews_->vote(requested->id, kBob, true, "", kNow + 4min);
  ASSERT_FALSE(by_dba);
  EXPECT_EQ(by_dba.error().code, "forbidden");

  const TimePoint approved_at = kNow + 5min;
  auto approved = reviews_->vote(requested->id, kSam, true, "go", approved_at);
  ASSERT_TRUE(approved) << approved.error().message;
  EXPECT_EQ(approved->status, ReviewStatus::approved);
  EXPECT_EQ(approved->grant_expires_at, approved_at + 30min);
  EXPECT_EQ(events(), (std::vector<std::string>{"access_requested", "approved"}));

  auto during = reviews_->access_granted_until("alice", "prod-db", "jit-prod", approved_at + 29min);
  ASSERT_TRUE(during) << during.error().message;
  EXPECT_EQ(*during, approved_at + 30min);

  auto at_end = reviews_->access_granted_until("alice", "prod-db", "jit-prod", approved_at + 30min);
  ASSERT_TRUE(at_end) << at_end.error().message;
  EXPECT_FALSE(*at_end);

  auto other_rule =
      reviews_->access_granted_until("alice", "prod-db", "jit-other", approved_at + 1min);
  ASSERT_TRUE(other_rule) << other_rule.error().message;
  EXPECT_FALSE(*other_rule);

  auto other_subject =
      reviews_->access_granted_until("bob", "prod-db", "jit-prod", approved_at + 1min);
  ASSERT_TRUE(other_subject) << other_subject.error().message;
  EXPECT_FALSE(*other_subject);

  auto other_connection =
      reviews_->access_granted_until("alice", "app-db", "jit-prod", approved_at + 1min);
  ASSERT_TRUE(other_connection) << other_connection.error().message;
  EXPECT_FALSE(*other_connection);
}

TEST_F(ReviewsTest, ARejectedAccessRequestGrantsNothing) {
  auto requested = request(30min);
  ASSERT_TRUE(requested) << requested.error().message;
  ASSERT_TRUE(reviews_->vote(requested->id, kCarol, false, "not now", kNow + 1min));
  auto until = reviews_->access_granted_until("alice", "prod-db", "jit-prod", kNow + 2min);
  ASSERT_TRUE(until) << until.error().message;
  EXPECT_FALSE(*until);
}

TEST_F(ReviewsTest, AnApprovedStatementIsNotAnAccessGrant) {
  approved_statement();
  auto until = reviews_->access_granted_until("alice", "app-db", "unbounded-writes", kNow + 2min);
  ASSERT_TRUE(until) << until.error().message;
  EXPECT_FALSE(*until);
}

// ---- expiry and the pending gauge -------------------------------------------------------

TEST_F(ReviewsTest, ExpireOverdueExpiresPendingReviewsPastTheirTime) {
  const ReviewRecord early = hold(1, "DELETE FROM a", kNow);
  const ReviewRecord late = hold(1, "DELETE FROM b", kNow + 10min);
  const ReviewRecord decided = hold(1, "DELETE FROM c", kNow);
  ASSERT_TRUE(reviews_->vote(decided.id, kBob, true, "", kNow + 1min));
  EXPECT_EQ(reviews_->pending(), 2);

  EXPECT_EQ(reviews_->expire_overdue(kNow + kPendingLifetime - 1ms), 0u);
  EXPECT_EQ(reviews_->expire_overdue(kNow + kPendingLifetime), 1u);
  EXPECT_EQ(stored(early.id).status, ReviewStatus::expired);
  EXPECT_EQ(stored(early.id).decided_at, kNow + kPendingLifetime);
  EXPECT_EQ(stored(late.id).status, ReviewStatus::pending);
  EXPECT_EQ(stored(decided.id).status, ReviewStatus::approved);
  EXPECT_EQ(reviews_->pending(), 1);
  EXPECT_EQ(events().back(), "expired");
  EXPECT_EQ(last_notification().review.id, early.id);

  // Nothing is expired twice.
  EXPECT_EQ(reviews_->expire_overdue(kNow + kPendingLifetime + 1min), 0u);
  EXPECT_EQ(reviews_->expire_overdue(kNow + 10min + kPendingLifetime), 1u);
  EXPECT_EQ(stored(late.id).status, ReviewStatus::expired);
  EXPECT_EQ(reviews_->pending(), 0);
}

TEST_F(ReviewsTest, AnExpiredReviewCannotBeApproved) {
  const ReviewRecord review = hold();
  ASSERT_EQ(reviews_->expire_overdue(kNow + kPendingLifetime), 1u);
  auto voted = reviews_->vote(review.id, kBob, true, "", kNow + kPendingLifetime + 1s);
  ASSERT_FALSE(voted);
  EXPECT_EQ(voted.error().code, "conflict");
  EXPECT_EQ(reviews_->pending(), 0);
}

TEST_F(ReviewsTest, PendingFollowsEveryTransition) {
  EXPECT_EQ(reviews_->pending(), 0);
  const ReviewRecord approved = hold();
  const ReviewRecord rejected = hold(2);
  const ReviewRecord expired = hold();
  auto access = request();
  ASSERT_TRUE(access) << access.error().message;
  EXPECT_EQ(reviews_->pending(), 4);

  // Refused votes and a first approval of two change nothing.
  EXPECT_FALSE(reviews_->vote(approved.id, kAlice, true, "", kNow + 1min));
  EXPECT_FALSE(reviews_->vote(approved.id, kErin, true, "", kNow + 1min));
  ASSERT_TRUE(reviews_->vote(rejected.id, kBob, true, "", kNow + 1min));
  EXPECT_EQ(reviews_->pending(), 4);

  ASSERT_TRUE(reviews_->vote(approved.id, kBob, true, "", kNow + 2min));
  EXPECT_EQ(reviews_->pending(), 3);
  ASSERT_TRUE(reviews_->vote(rejected.id, kDave, false, "", kNow + 2min));
  EXPECT_EQ(reviews_->pending(), 2);
  ASSERT_TRUE(reviews_->vote(access->id, kSam, true, "", kNow + 2min));
  EXPECT_EQ(reviews_->pending(), 1);
  // A refused vote on a decided review does not count it down again.
  EXPECT_FALSE(reviews_->vote(approved.id, kDave, true, "", kNow + 3min));
  EXPECT_EQ(reviews_->pending(), 1);
  ASSERT_TRUE(reviews_->mark_executed(approved.id, kNow + 3min));
  EXPECT_EQ(reviews_->pending(), 1);
  EXPECT_EQ(reviews_->expire_overdue(kNow + kPendingLifetime), 1u);
  EXPECT_EQ(stored(expired.id).status, ReviewStatus::expired);
  EXPECT_EQ(reviews_->pending(), 0);
}

TEST_F(ReviewsTest, PendingCountsTheReviewsAlreadyInTheStore) {
  hold();
  hold();
  const ReviewRecord decided = hold();
  ASSERT_TRUE(reviews_->vote(decided.id, kBob, true, "", kNow + 1min));
  reviews_.reset();
  reviews_ = make_reviews();
  EXPECT_EQ(reviews_->pending(), 2);
}

TEST_F(ReviewsTest, ListsAndFindsReviews) {
  const ReviewRecord first = hold(1, "DELETE FROM a", kNow);
  const ReviewRecord second = hold(1, "DELETE FROM b", kNow + 1min);
  ASSERT_TRUE(reviews_->vote(first.id, kBob, true, "", kNow + 2min));

  auto pending = reviews_->list(ReviewStatus::pending, 10);
  ASSERT_TRUE(pending) << pending.error().message;
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].id, second.id);
  auto all = reviews_->list(std::nullopt, 10);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, second.id);

  auto found = reviews_->find(first.id);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->status, ReviewStatus::approved);
  auto missing = reviews_->find("r-nosuchreview");
  ASSERT_TRUE(missing) << missing.error().message;
  EXPECT_FALSE(*missing);
}

TEST_F(ReviewsTest, TheExpiryThreadExpiresOverdueReviews) {
  // Opened in the real past, so that the thread, which uses the real clock, finds it overdue.
  const ReviewRecord review =
      hold(1, std::string(kStatement), std::chrono::system_clock::now() - 2 * kPendingLifetime);
  reviews_->start_expiry();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  // The gauge counts down after the store has the review expired.
  while (reviews_->pending() != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(stored(review.id).status, ReviewStatus::expired);
  EXPECT_EQ(reviews_->pending(), 0);
}

}  // namespace
}  // namespace portcullis::review
