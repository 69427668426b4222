// The state store's reviews and revocations against both stores (real SQLite files, real
// PostgreSQL databases): what is stored reads back, the listings' filters and order, and
// update_review's transaction.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "state_store_backends.h"
#include "store/state_store.h"
#include "support/temp_dir.h"

namespace portcullis::store {
namespace {

using namespace std::chrono_literals;

// Whole milliseconds: the store keeps times to the millisecond.
const TimePoint kNow = TimePoint(std::chrono::milliseconds(1'700'000'000'123));

ReviewRecord pending_review(std::string id, TimePoint created_at = kNow) {
  ReviewRecord r;
  r.id = std::move(id);
  r.kind = ReviewKind::statement;
  r.status = ReviewStatus::pending;
  r.requester = "alice";
  r.requester_groups = {"engineering"};
  r.session = "s-1";
  r.connection = "app-db";
  r.command = "DELETE FROM orders";
  r.command_sha256 = std::string(64, 'a');
  r.rule = "unbounded-writes";
  r.reviewer_groups = {"dba"};
  r.min_approvals = 1;
  r.created_at = created_at;
  r.expires_at = created_at + 24h;
  return r;
}

// An approved review whose grant runs until `grant_expires_at`.
ReviewRecord approved_review(std::string id, TimePoint grant_expires_at) {
  ReviewRecord r = pending_review(std::move(id));
  r.status = ReviewStatus::approved;
  r.decided_at = kNow;
  r.decided_by = "bob";
  r.grant_expires_at = grant_expires_at;
  r.votes = {ReviewVote{"bob", true, "", kNow}};
  return r;
}

std::vector<std::string> ids(const std::vector<ReviewRecord>& reviews) {
  std::vector<std::string> out;
  for (const auto& r : reviews) out.push_back(r.id);
  return out;
}

// Each test on a new, empty store of the kind its parameter names.
class ReviewStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = testing::fresh_state_url(GetParam(), dir_);
    auto opened = open_state_store(url_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  void insert(const ReviewRecord& review) {
    auto inserted = store_->insert_review(review);
    ASSERT_TRUE(inserted) << inserted.error().message;
  }

  ReviewRecord find(const std::string& id) {
    auto found = store_->find_review(id);
    EXPECT_TRUE(found) << found.error().message;
    if (!found || !*found) {
      ADD_FAILURE() << "no review " << id;
      return {};
    }
    return **found;
  }

  testing::TempDir dir_{"portcullis-review-store-"};
  std::string url_;
  std::unique_ptr<StateStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Stores, ReviewStoreTest,
                         ::testing::ValuesIn(testing::state_store_backends()),
                         testing::backend_test_name);

TEST_P(ReviewStoreTest, InsertsAndFindsAReviewWithEveryField) {
  ReviewRecord r;
  r.id = "r-abcdefghijkm";
  r.kind = ReviewKind::access;
  r.status = ReviewStatus::approved;
  r.requester = "alice";
  r.requester_groups = {"engineering", "on\"call"};
  r.session = "s-42";
  r.connection = "app-db";
  r.command = "UPDATE t SET password = '***'";
  r.command_sha256 = std::string(64, 'f');
  r.rule = "jit-prod";
  r.reviewer_groups = {"dba", "sre"};
  r.reviewer_subjects = {"carol"};
  r.min_approvals = 2;
  r.reason = "incident 123";
  r.duration = 30min;
  r.created_at = kNow;
  r.expires_at = kNow + 24h;
  r.decided_at = kNow + 5min;
  r.decided_by = "carol";
  r.comment = "go ahead";
  r.grant_expires_at = kNow + 35min;
  r.executed_at = kNow + 6min;
  r.votes = {ReviewVote{"bob", true, "fine", kNow + 1min},
             ReviewVote{"carol", true, "go ahead", kNow + 5min}};
  insert(r);

  const ReviewRecord found = find(r.id);
  EXPECT_EQ(found.id, r.id);
  EXPECT_EQ(found.kind, ReviewKind::access);
  EXPECT_EQ(found.status, ReviewStatus::approved);
  EXPECT_EQ(found.requester, "alice");
  EXPECT_EQ(found.requester_groups, r.requester_groups);
  EXPECT_EQ(found.session, "s-42");
  EXPECT_EQ(found.connection, "app-db");
  EXPECT_EQ(found.command, r.command);
  EXPECT_EQ(found.command_sha256, r.command_sha256);
  EXPECT_EQ(found.rule, "jit-prod");
  EXPECT_EQ(found.reviewer_groups, r.reviewer_groups);
  EXPECT_EQ(found.reviewer_subjects, r.reviewer_subjects);
  EXPECT_EQ(found.min_approvals, 2u);
  EXPECT_EQ(found.reason, "incident 123");
  EXPECT_EQ(found.duration, 30min);
  EXPECT_EQ(found.created_at, kNow);
  EXPECT_EQ(found.expires_at, kNow + 24h);
  EXPECT_EQ(found.decided_at, kNow + 5min);
  EXPECT_EQ(found.decided_by, "carol");
  EXPECT_EQ(found.comment, "go ahead");
  EXPECT_EQ(found.grant_expires_at, kNow + 35min);
  EXPECT_EQ(found.executed_at, kNow + 6min);
  ASSERT_EQ(found.votes.size(), 2u);
  EXPECT_EQ(found.votes[0].reviewer, "bob");
  EXPECT_TRUE(found.votes[0].approve);
  EXPECT_EQ(found.votes[0].comment, "fine");
  EXPECT_EQ(found.votes[0].time, kNow + 1min);
  EXPECT_EQ(found.votes[1].reviewer, "carol");
}

TEST_P(ReviewStoreTest, KeepsUnsetOptionalFieldsUnset) {
  insert(pending_review("r-pending00001"));
  const ReviewRecord found = find("r-pending00001");
  EXPECT_EQ(found.status, ReviewStatus::pending);
  EXPECT_FALSE(found.decided_at);
  EXPECT_FALSE(found.grant_expires_at);
  EXPECT_FALSE(found.executed_at);
  EXPECT_TRUE(found.decided_by.empty());
  EXPECT_TRUE(found.reason.empty());
  EXPECT_TRUE(found.reviewer_subjects.empty());
  EXPECT_TRUE(found.votes.empty());
}

TEST_P(ReviewStoreTest, FindsNothingForAnUnknownId) {
  auto found = store_->find_review("r-nosuchreview");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(*found);
}

TEST_P(ReviewStoreTest, RefusesASecondReviewWithTheSameId) {
  insert(pending_review("r-duplicate001"));
  EXPECT_FALSE(store_->insert_review(pending_review("r-duplicate001")));
}

TEST_P(ReviewStoreTest, KeepsReviewsWhenReopened) {
  insert(approved_review("r-persistent01", kNow + 1h));
  store_.reset();
  auto reopened = open_state_store(url_);
  ASSERT_TRUE(reopened) << reopened.error().message;
  store_ = std::move(*reopened);
  const ReviewRecord found = find("r-persistent01");
  EXPECT_EQ(found.status, ReviewStatus::approved);
  ASSERT_EQ(found.votes.size(), 1u);
  EXPECT_EQ(found.votes[0].reviewer, "bob");
}

TEST_P(ReviewStoreTest, ListsNewestFirst) {
  insert(pending_review("r-old", kNow));
  insert(pending_review("r-newest", kNow + 2min));
  insert(pending_review("r-middle", kNow + 1min));
  auto listed = store_->list_reviews(std::nullopt, 10);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(ids(*listed), (std::vector<std::string>{"r-newest", "r-middle", "r-old"}));
}

TEST_P(ReviewStoreTest, ListsOnlyTheStatusAsked) {
  insert(pending_review("r-pending-1", kNow));
  ReviewRecord rejected = pending_review("r-rejected", kNow + 1min);
  rejected.status = ReviewStatus::rejected;
  insert(rejected);
  insert(pending_review("r-pending-2", kNow + 2min));

  auto pending = store_->list_reviews(ReviewStatus::pending, 10);
  ASSERT_TRUE(pending) << pending.error().message;
  EXPECT_EQ(ids(*pending), (std::vector<std::string>{"r-pending-2", "r-pending-1"}));
  auto rejected_only = store_->list_reviews(ReviewStatus::rejected, 10);
  ASSERT_TRUE(rejected_only) << rejected_only.error().message;
  EXPECT_EQ(ids(*rejected_only), std::vector<std::string>{"r-rejected"});
  auto approved = store_->list_reviews(ReviewStatus::approved, 10);
  ASSERT_TRUE(approved) << approved.error().message;
  EXPECT_TRUE(approved->empty());
  // The statement is reused: a filtered listing must not leave its filter behind.
  auto all = store_->list_reviews(std::nullopt, 10);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->size(), 3u);
}

TEST_P(ReviewStoreTest, ListsAtMostTheLimit) {
  for (int i = 0; i < 5; ++i)
    insert(pending_review("r-" + std::to_string(i), kNow + std::chrono::minutes(i)));
  auto listed = store_->list_reviews(std::nullopt, 2);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(ids(*listed), (std::vector<std::string>{"r-4", "r-3"}));
  auto pending = store_->list_reviews(ReviewStatus::pending, 3);
  ASSERT_TRUE(pending) << pending.error().message;
  EXPECT_EQ(pending->size(), 3u);
}

TEST_P(ReviewStoreTest, ListedReviewsCarryTheirVotes) {
  insert(approved_review("r-with-vote", kNow + 1h));
  auto listed = store_->list_reviews(std::nullopt, 10);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  ASSERT_EQ((*listed)[0].votes.size(), 1u);
  EXPECT_EQ((*listed)[0].votes[0].reviewer, "bob");
}

TEST_P(ReviewStoreTest, UpdateWritesWhatTheChangeDidToStatusAndVotes) {
  insert(pending_review("r-update"));
  auto updated = store_->update_review("r-update", [](ReviewRecord& r) -> Result<void> {
    r.votes.push_back(ReviewVote{"bob", true, "ok", kNow + 1min});
    r.votes.push_back(ReviewVote{"carol", true, "", kNow + 2min});
    r.status = ReviewStatus::approved;
    r.decided_at = kNow + 2min;
    r.decided_by = "carol";
    r.grant_expires_at = kNow + 17min;
    return {};
  });
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->status, ReviewStatus::approved);
  EXPECT_EQ(updated->votes.size(), 2u);

  const ReviewRecord found = find("r-update");
  EXPECT_EQ(found.status, ReviewStatus::approved);
  EXPECT_EQ(found.decided_at, kNow + 2min);
  EXPECT_EQ(found.decided_by, "carol");
  EXPECT_EQ(found.grant_expires_at, kNow + 17min);
  ASSERT_EQ(found.votes.size(), 2u);
  EXPECT_EQ(found.votes[0].reviewer, "bob");
  EXPECT_EQ(found.votes[0].comment, "ok");
  EXPECT_EQ(found.votes[1].reviewer, "carol");
}

TEST_P(ReviewStoreTest, UpdateSeesTheVotesAlreadyCastAndCanRemoveThem) {
  insert(approved_review("r-votes", kNow + 1h));
  std::size_t seen = 0;
  auto updated = store_->update_review("r-votes", [&](ReviewRecord& r) -> Result<void> {
    seen = r.votes.size();
    r.votes.clear();
    return {};
  });
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(seen, 1u);
  EXPECT_TRUE(find("r-votes").votes.empty());
}

TEST_P(ReviewStoreTest, UpdateRollsBackWhenTheChangeFails) {
  insert(pending_review("r-rollback"));
  auto updated = store_->update_review("r-rollback", [](ReviewRecord& r) -> Result<void> {
    r.status = ReviewStatus::approved;
    r.votes.push_back(ReviewVote{"bob", true, "", kNow});
    return make_error("conflict", "changed my mind");
  });
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, "conflict");
  EXPECT_EQ(updated.error().message, "changed my mind");

  const ReviewRecord found = find("r-rollback");
  EXPECT_EQ(found.status, ReviewStatus::pending);
  EXPECT_TRUE(found.votes.empty());
  // The store takes writes again after the rollback.
  auto again = store_->update_review("r-rollback", [](ReviewRecord& r) -> Result<void> {
    r.status = ReviewStatus::rejected;
    return {};
  });
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(find("r-rollback").status, ReviewStatus::rejected);
}

TEST_P(ReviewStoreTest, UpdateRollsBackTheReviewWhenItsVotesCannotBeWritten) {
  insert(pending_review("r-two-votes"));
  // One vote per reviewer: a second vote by the same reviewer fails the write of the votes,
  // after the review's own row was written in the same transaction.
  auto updated = store_->update_review("r-two-votes", [](ReviewRecord& r) -> Result<void> {
    r.status = ReviewStatus::approved;
    r.votes.push_back(ReviewVote{"bob", true, "", kNow});
    r.votes.push_back(ReviewVote{"bob", true, "", kNow + 1s});
    return {};
  });
  EXPECT_FALSE(updated);
  const ReviewRecord found = find("r-two-votes");
  EXPECT_EQ(found.status, ReviewStatus::pending);
  EXPECT_TRUE(found.votes.empty());
}

TEST_P(ReviewStoreTest, UpdateOfAnUnknownIdIsNotFound) {
  bool called = false;
  auto updated = store_->update_review("r-nosuchreview", [&](ReviewRecord&) -> Result<void> {
    called = true;
    return {};
  });
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().code, "not_found");
  EXPECT_FALSE(called);
}

TEST_P(ReviewStoreTest, ApprovedReviewsMatchKindRequesterConnectionAndRunningGrant) {
  insert(approved_review("r-match", kNow + 10min));

  ReviewRecord access = approved_review("r-access", kNow + 10min);
  access.kind = ReviewKind::access;
  insert(access);
  ReviewRecord other_requester = approved_review("r-bob", kNow + 10min);
  other_requester.requester = "bob";
  insert(other_requester);
  ReviewRecord other_connection = approved_review("r-other-db", kNow + 10min);
  other_connection.connection = "other-db";
  insert(other_connection);
  insert(approved_review("r-ran-out", kNow));  // runs until exactly now: over
  ReviewRecord pending = pending_review("r-pending");
  pending.grant_expires_at = kNow + 10min;
  insert(pending);
  ReviewRecord executed = approved_review("r-executed", kNow + 10min);
  executed.status = ReviewStatus::executed;
  insert(executed);

  auto statements = store_->approved_reviews(ReviewKind::statement, "alice", "app-db", kNow);
  ASSERT_TRUE(statements) << statements.error().message;
  EXPECT_EQ(ids(*statements), std::vector<std::string>{"r-match"});

  auto accesses = store_->approved_reviews(ReviewKind::access, "alice", "app-db", kNow);
  ASSERT_TRUE(accesses) << accesses.error().message;
  EXPECT_EQ(ids(*accesses), std::vector<std::string>{"r-access"});

  auto later = store_->approved_reviews(ReviewKind::statement, "alice", "app-db", kNow + 10min);
  ASSERT_TRUE(later) << later.error().message;
  EXPECT_TRUE(later->empty());

  auto bobs = store_->approved_reviews(ReviewKind::statement, "bob", "app-db", kNow);
  ASSERT_TRUE(bobs) << bobs.error().message;
  EXPECT_EQ(ids(*bobs), std::vector<std::string>{"r-bob"});
}

TEST_P(ReviewStoreTest, ApprovedReviewsComeNewestDecisionFirst) {
  ReviewRecord first = approved_review("r-first", kNow + 1h);
  first.decided_at = kNow;
  insert(first);
  ReviewRecord second = approved_review("r-second", kNow + 1h);
  second.decided_at = kNow + 1min;
  insert(second);
  auto approved = store_->approved_reviews(ReviewKind::statement, "alice", "app-db", kNow);
  ASSERT_TRUE(approved) << approved.error().message;
  EXPECT_EQ(ids(*approved), (std::vector<std::string>{"r-second", "r-first"}));
}

TEST_P(ReviewStoreTest, OverdueReviewsArePendingOnesAtOrPastTheirExpiry) {
  ReviewRecord past = pending_review("r-past");
  past.expires_at = kNow - 1min;
  insert(past);
  ReviewRecord exactly = pending_review("r-exactly");
  exactly.expires_at = kNow;
  insert(exactly);
  ReviewRecord future = pending_review("r-future");
  future.expires_at = kNow + 1ms;
  insert(future);
  ReviewRecord decided = pending_review("r-decided");
  decided.expires_at = kNow - 1h;
  decided.status = ReviewStatus::rejected;
  insert(decided);

  auto overdue = store_->overdue_reviews(kNow);
  ASSERT_TRUE(overdue) << overdue.error().message;
  EXPECT_EQ(ids(*overdue), (std::vector<std::string>{"r-past", "r-exactly"}));
}

TEST_P(ReviewStoreTest, RevocationKeepsTheLatestTime) {
  auto first = store_->upsert_revocation(RevocationRecord{"alice", kNow, "admin", "laptop lost"});
  ASSERT_TRUE(first) << first.error().message;
  auto later =
      store_->upsert_revocation(RevocationRecord{"alice", kNow + 1h, "sec", "still compromised"});
  ASSERT_TRUE(later) << later.error().message;
  auto earlier = store_->upsert_revocation(RevocationRecord{"alice", kNow - 1h, "old", ""});
  ASSERT_TRUE(earlier) << earlier.error().message;

  auto found = store_->find_revocation("alice");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->subject, "alice");
  EXPECT_EQ((*found)->revoked_at, kNow + 1h);
}

TEST_P(ReviewStoreTest, RevocationKeepsWhoAndWhyOfTheLatestTime) {
  auto later = store_->upsert_revocation(RevocationRecord{"alice", kNow + 1h, "sec", "stolen"});
  ASSERT_TRUE(later) << later.error().message;
  auto earlier = store_->upsert_revocation(RevocationRecord{"alice", kNow, "old", "lost"});
  ASSERT_TRUE(earlier) << earlier.error().message;
  auto found = store_->find_revocation("alice");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->revoked_at, kNow + 1h);
  EXPECT_EQ((*found)->revoked_by, "sec");
  EXPECT_EQ((*found)->reason, "stolen");
}

TEST_P(ReviewStoreTest, RevocationReadsBackWhoAndWhy) {
  auto stored = store_->upsert_revocation(RevocationRecord{"bob", kNow, "admin", "left"});
  ASSERT_TRUE(stored) << stored.error().message;
  auto found = store_->find_revocation("bob");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(*found);
  EXPECT_EQ((*found)->revoked_at, kNow);
  EXPECT_EQ((*found)->revoked_by, "admin");
  EXPECT_EQ((*found)->reason, "left");
}

TEST_P(ReviewStoreTest, FindsNoRevocationForAnotherSubject) {
  auto stored = store_->upsert_revocation(RevocationRecord{"alice", kNow, "admin", ""});
  ASSERT_TRUE(stored) << stored.error().message;
  auto found = store_->find_revocation("alicia");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_FALSE(*found);
}

}  // namespace
}  // namespace portcullis::store
