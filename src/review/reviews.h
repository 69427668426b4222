// Reviews: the approval workflow. A statement held by a guardrail with `action: review`, or a
// just-in-time access request, becomes a review in the state store; the people the rule names
// approve or reject it (never the requester), the session holding the statement is woken,
// every step is journaled and announced to the notification targets.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/journal.h"
#include "common/result.h"
#include "config/config.h"
#include "identity/identity.h"
#include "policy/decision.h"
#include "review/notification.h"
#include "store/review_record.h"
#include "store/state_store.h"

namespace portcullis::review {

using store::ReviewKind;
using store::ReviewRecord;
using store::ReviewStatus;
using TimePoint = std::chrono::system_clock::time_point;

// A statement a session holds for review.
struct StatementHold {
  const identity::Identity* requester = nullptr;
  std::string protocol;  // the front end that holds it
  std::string session;
  std::string connection;
  std::string text;           // exactly as sent: a re-run must match it byte for byte
  std::string recorded_text;  // as the journal records it (secrets replaced)
  const policy::Decision* decision = nullptr;  // the review verdict: rule, reviewers
};

struct AccessRequest {
  std::string connection;
  std::chrono::milliseconds duration{0};
  std::string reason;
};

// How the workflow reaches what it does not own. Any member may be empty.
struct ReviewsWiring {
  store::StateStore* store = nullptr;  // required
  audit::Journal* journal = nullptr;   // review steps are journaled when set
  std::string instance;                // names this gateway in journaled steps
  // Hands a notification to the webhooks; must not block.
  std::function<void(Notification)> notify;
  // The configuration in force (reviews timings, access rules, notifications.api_url).
  std::function<config::ConfigPtr()> config;
};

class Reviews {
 public:
  using Watcher = std::function<void(const ReviewRecord&)>;

  explicit Reviews(ReviewsWiring wiring);
  ~Reviews();
  Reviews(const Reviews&) = delete;
  Reviews& operator=(const Reviews&) = delete;

  // Expires overdue pending reviews once a second on a thread of its own, until stopped or
  // destroyed.
  void start_expiry();
  void stop_expiry();

  // ---- held statements (called by sessions) --------------------------------------------
  Result<ReviewRecord> open_statement_review(const StatementHold& hold, TimePoint now);
  // `watcher` is called once, on the deciding thread, when review `id` is approved, rejected
  // or expires (reviews.pending_lifetime). Returns a ticket for unwatch().
  std::uint64_t watch(const std::string& id, Watcher watcher);
  void unwatch(const std::string& id, std::uint64_t ticket);
  // An approved statement review of this requester on this connection for exactly `text`,
  // whose grant has not run out: marked executed (it runs once) and returned.
  Result<std::optional<ReviewRecord>> claim_approved_statement(std::string_view requester,
                                                               std::string_view connection,
                                                               std::string_view text,
                                                               TimePoint now);
  // `hook` is told of every review this instance decides or expires, after its own watchers
  // are woken: other instances sharing the store may hold its statement (InstanceEvents).
  // Replaces the hook before; an empty one removes it, once a call in progress has returned.
  void set_decided_hook(std::function<void(const ReviewRecord&)> hook);
  // Another instance decided or expired review `id`: re-read from the store, and the
  // sessions here waiting for it are woken once it is no longer pending.
  void refresh(const std::string& id);
  // After word from other instances may have been missed: every review watched here is
  // re-read (as refresh does) and the pending count taken again.
  void refresh_watched();
  // The statement of an approved review that a waiting session released is running.
  Result<void> mark_executed(const std::string& id, TimePoint now);

  // ---- just-in-time access --------------------------------------------------------------
  // Error codes: "invalid" (no access rule that needs a request grants this, duration out of
  // range, no reason), "conflict" (already granted, or a request pending), "unavailable".
  Result<ReviewRecord> request_access(const identity::Identity& requester,
                                      const AccessRequest& request, TimePoint now);
  // Until when `subject` holds approved access to `connection` under access rule `rule`, if
  // it does.
  Result<std::optional<TimePoint>> access_granted_until(std::string_view subject,
                                                        std::string_view connection,
                                                        std::string_view rule, TimePoint now);

  // ---- decisions (REST API) -------------------------------------------------------------
  // Error codes: "not_found", "forbidden" (not a reviewer, or the requester), "conflict"
  // (decided, expired, or this reviewer voted already), "unavailable".
  Result<ReviewRecord> vote(const std::string& id, const identity::Identity& reviewer, bool approve,
                            std::string comment, TimePoint now);
  Result<std::optional<ReviewRecord>> find(const std::string& id);
  Result<std::vector<ReviewRecord>> list(std::optional<ReviewStatus> status, std::size_t limit);
  // Whether `who` is among the reviewers the review names (and is not its requester).
  static bool may_decide(const ReviewRecord& review, const identity::Identity& who);

  // Expires pending reviews past their time; returns how many.
  std::size_t expire_overdue(TimePoint now);

  // For /metrics: reviews pending now (kept up to date as reviews change state).
  std::int64_t pending() const;

 private:
  void record_step(const ReviewRecord& review, std::string_view verdict,
                   const identity::Identity* actor, std::string_view reviewer);
  void announce(std::string_view event, const ReviewRecord& review);
  // Wakes this instance's watchers of `review`, then tells the other instances.
  void wake(const ReviewRecord& review);
  void wake_watchers(const ReviewRecord& review);
  void count_pending();
  config::ConfigPtr config() const;

  ReviewsWiring wiring_;
  std::mutex watchers_mutex_;
  std::multimap<std::string, std::pair<std::uint64_t, Watcher>, std::less<>> watchers_;
  std::uint64_t next_ticket_ = 1;
  std::atomic<std::int64_t> pending_{0};
  std::mutex decided_mutex_;  // held while the hook runs, so that removing it waits for it
  std::function<void(const ReviewRecord&)> decided_hook_;

  std::mutex expiry_mutex_;
  std::condition_variable expiry_wake_;
  bool stopping_ = false;
  std::thread expiry_thread_;
};

// A short id nobody can guess: "r-" and 12 characters of base32 (60 random bits).
std::string new_review_id();

}  // namespace portcullis::review
