// The approval workflow's state machine over the state store.
#include "review/reviews.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "audit/record.h"
#include "common/thread_name.h"
#include "policy/access.h"

namespace portcullis::review {
namespace {

// Most reviews one listing returns.
constexpr std::size_t kMaxListed = 1000;

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::size_t approvals(const ReviewRecord& review) {
  return static_cast<std::size_t>(std::count_if(review.votes.begin(), review.votes.end(),
                                                [](const auto& v) { return v.approve; }));
}

Error unavailable(const Error& error) {
  spdlog::error("event=review_store_failed error=\"{}\"", error.message);
  return make_error("unavailable", "the review store is unavailable (see the gateway's log)");
}

}  // namespace

std::string new_review_id() {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";  // 32, no l/o/0/1
  unsigned char bytes[12];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  std::string id = "r-";
  for (unsigned char b : bytes) id += kAlphabet[b & 31];
  return id;
}

Reviews::Reviews(ReviewsWiring wiring) : wiring_(std::move(wiring)) {
  count_pending();
}

Reviews::~Reviews() {
  stop_expiry();
}

void Reviews::stop_expiry() {
  {
    std::lock_guard lock(expiry_mutex_);
    stopping_ = true;
  }
  expiry_wake_.notify_all();
  if (expiry_thread_.joinable()) expiry_thread_.join();
}

void Reviews::start_expiry() {
  expiry_thread_ = std::thread([this] {
    name_this_thread("review expiry");
    std::unique_lock lock(expiry_mutex_);
    while (!stopping_) {
      expiry_wake_.wait_for(lock, std::chrono::seconds(1));
      if (stopping_) break;
      lock.unlock();
      expire_overdue(std::chrono::system_clock::now());
      lock.lock();
    }
  });
}

config::ConfigPtr Reviews::config() const {
  return wiring_.config ? wiring_.config() : std::make_shared<const config::Config>();
}

Result<ReviewRecord> Reviews::open_statement_review(const StatementHold& hold, TimePoint now) {
  const auto current = config();
  ReviewRecord review;
  review.id = new_review_id();
  review.kind = ReviewKind::statement;
  review.status = ReviewStatus::pending;
  review.requester = hold.requester->subject;
  review.requester_groups = hold.requester->groups;
  review.protocol = hold.protocol;
  review.session = hold.session;
  review.connection = hold.connection;
  review.command = hold.recorded_text;
  review.command_sha256 = audit::sha256_hex(hold.text);
  review.rule = hold.decision->rule;
  review.reviewer_groups = hold.decision->reviewer_groups;
  review.reviewer_subjects = hold.decision->reviewer_subjects;
  review.min_approvals = std::max<std::size_t>(1, hold.decision->min_approvals);
  review.created_at = now;
  review.expires_at = now + current->reviews.pending_lifetime;
  if (auto r = wiring_.store->insert_review(review); !r) return unavailable(r.error());
  ++pending_;
  spdlog::info(
      "event=review_opened review={} kind=statement subject={:?} connection={:?} rule={:?}",
      review.id, review.requester, review.connection, review.rule);
  announce(kNotifyReviewPending, review);
  return review;
}

std::uint64_t Reviews::watch(const std::string& id, Watcher watcher) {
  std::lock_guard lock(watchers_mutex_);
  const auto ticket = next_ticket_++;
  watchers_.emplace(id, std::make_pair(ticket, std::move(watcher)));
  return ticket;
}

void Reviews::unwatch(const std::string& id, std::uint64_t ticket) {
  std::lock_guard lock(watchers_mutex_);
  auto [begin, end] = watchers_.equal_range(id);
  for (auto it = begin; it != end; ++it) {
    if (it->second.first == ticket) {
      watchers_.erase(it);
      return;
    }
  }
}

void Reviews::wake(const ReviewRecord& review) {
  wake_watchers(review);
  std::lock_guard lock(decided_mutex_);
  if (decided_hook_) decided_hook_(review);
}

void Reviews::set_decided_hook(std::function<void(const ReviewRecord&)> hook) {
  std::lock_guard lock(decided_mutex_);
  decided_hook_ = std::move(hook);
}

void Reviews::refresh(const std::string& id) {
  auto found = wiring_.store->find_review(id);
  if (!found) {
    (void)unavailable(found.error());
    return;
  }
  count_pending();
  if (*found && (*found)->status != ReviewStatus::pending) wake_watchers(**found);
}

void Reviews::refresh_watched() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(watchers_mutex_);
    for (auto it = watchers_.begin(); it != watchers_.end(); it = watchers_.upper_bound(it->first))
      ids.push_back(it->first);
  }
  for (const auto& id : ids) refresh(id);
  if (ids.empty()) count_pending();
}

void Reviews::wake_watchers(const ReviewRecord& review) {
  std::vector<Watcher> woken;
  {
    std::lock_guard lock(watchers_mutex_);
    auto [begin, end] = watchers_.equal_range(review.id);
    for (auto it = begin; it != end; ++it) woken.push_back(std::move(it->second.second));
    watchers_.erase(begin, end);
  }
  for (auto& watcher : woken) watcher(review);
}

Result<std::optional<ReviewRecord>> Reviews::claim_approved_statement(std::string_view requester,
                                                                      std::string_view connection,
                                                                      std::string_view text,
                                                                      TimePoint now) {
  auto approved =
      wiring_.store->approved_reviews(ReviewKind::statement, requester, connection, now);
  if (!approved) return unavailable(approved.error());
  const std::string sha = audit::sha256_hex(text);
  for (const auto& candidate : *approved) {
    if (candidate.command_sha256 != sha) continue;
    // Claimed in the store's transaction: of two sessions re-running it at once, one runs it.
    auto claimed = wiring_.store->update_review(candidate.id, [&](ReviewRecord& r) -> Result<void> {
      if (r.status != ReviewStatus::approved || r.executed_at)
        return make_error("conflict", "already run");
      r.status = ReviewStatus::executed;
      r.executed_at = now;
      return {};
    });
    if (!claimed) {
      if (claimed.error().code == "conflict") continue;
      return unavailable(claimed.error());
    }
    spdlog::info("event=review_executed review={} subject={:?} connection={:?}", claimed->id,
                 claimed->requester, claimed->connection);
    return std::optional<ReviewRecord>(std::move(*claimed));
  }
  return std::optional<ReviewRecord>();
}

Result<void> Reviews::mark_executed(const std::string& id, TimePoint now) {
  auto updated = wiring_.store->update_review(id, [&](ReviewRecord& r) -> Result<void> {
    if (r.status != ReviewStatus::approved) return make_error("conflict", "not approved");
    r.status = ReviewStatus::executed;
    r.executed_at = now;
    return {};
  });
  if (!updated) {
    const auto& code = updated.error().code;
    return code == "conflict" || code == "not_found" ? updated.error()
                                                     : unavailable(updated.error());
  }
  return {};
}

Result<ReviewRecord> Reviews::request_access(const identity::Identity& requester,
                                             const AccessRequest& request, TimePoint now) {
  const auto current = config();
  const config::AccessRuleConfig* rule = nullptr;
  for (const auto& candidate : current->access) {
    if (!candidate.requires_request || !policy::who_matches(candidate.who, requester)) continue;
    if (!contains(candidate.connections, request.connection)) continue;
    rule = &candidate;
    break;
  }
  if (rule == nullptr)
    return make_error("invalid",
                      fmt::format("no access rule that needs a request grants you connection "
                                  "\"{}\"",
                                  request.connection));
  if (request.duration <= std::chrono::milliseconds::zero() ||
      request.duration > rule->max_duration)
    return make_error(
        "invalid",
        fmt::format("duration must be more than zero and at most {} s (rule "
                    "\"{}\", max_duration)",
                    std::chrono::duration_cast<std::chrono::seconds>(rule->max_duration).count(),
                    rule->name));
  // Blank is no reason: the reviewers and the journal would have nothing to go on.
  if (request.reason.find_first_not_of(" \t\n\r\f\v") == std::string::npos)
    return make_error("invalid", "a reason is required (it is empty or only whitespace)");
  // One request at a time: a second while one is pending or granted would only add noise
  // for the reviewers (ask again once the grant has run out).
  auto granted = access_granted_until(requester.subject, request.connection, rule->name, now);
  if (!granted) return granted.error();
  if (*granted)
    return make_error("conflict", fmt::format("you already have access to \"{}\" until {}",
                                              request.connection, audit::format_time(**granted)));
  auto pending = wiring_.store->list_reviews(ReviewStatus::pending, kMaxListed);
  if (!pending) return unavailable(pending.error());
  for (const auto& other : *pending)
    if (other.kind == ReviewKind::access && other.requester == requester.subject &&
        other.connection == request.connection && now < other.expires_at)
      return make_error("conflict", fmt::format("your request {} for \"{}\" is still pending",
                                                other.id, request.connection));

  ReviewRecord review;
  review.id = new_review_id();
  review.kind = ReviewKind::access;
  review.status = ReviewStatus::pending;
  review.requester = requester.subject;
  review.requester_groups = requester.groups;
  review.connection = request.connection;
  review.rule = rule->name;
  review.reviewer_groups = rule->reviewers.groups;
  review.reviewer_subjects = rule->reviewers.subjects;
  review.min_approvals = rule->min_approvals;
  review.reason = request.reason;
  review.duration = request.duration;
  review.created_at = now;
  review.expires_at = now + current->reviews.pending_lifetime;
  if (auto r = wiring_.store->insert_review(review); !r) return unavailable(r.error());
  ++pending_;
  spdlog::info(
      "event=review_opened review={} kind=access subject={:?} connection={:?} rule={:?} "
      "duration_s={}",
      review.id, review.requester, review.connection, review.rule,
      std::chrono::duration_cast<std::chrono::seconds>(review.duration).count());
  record_step(review, "review_pending", &requester, "");
  announce(kNotifyAccessRequested, review);
  return review;
}

Result<std::optional<TimePoint>> Reviews::access_granted_until(std::string_view subject,
                                                               std::string_view connection,
                                                               std::string_view rule,
                                                               TimePoint now) {
  auto approved = wiring_.store->approved_reviews(ReviewKind::access, subject, connection, now);
  if (!approved) return unavailable(approved.error());
  std::optional<TimePoint> until;
  for (const auto& review : *approved)
    if (review.rule == rule && review.grant_expires_at &&
        (!until || *review.grant_expires_at > *until))
      until = review.grant_expires_at;
  return until;
}

bool Reviews::may_decide(const ReviewRecord& review, const identity::Identity& who) {
  if (who.subject == review.requester) return false;
  if (contains(review.reviewer_subjects, who.subject)) return true;
  return std::any_of(who.groups.begin(), who.groups.end(),
                     [&](const auto& group) { return contains(review.reviewer_groups, group); });
}

Result<ReviewRecord> Reviews::vote(const std::string& id, const identity::Identity& reviewer,
                                   bool approve, std::string comment, TimePoint now) {
  const auto current = config();
  bool decided = false;
  bool expired = false;
  auto updated = wiring_.store->update_review(id, [&](ReviewRecord& r) -> Result<void> {
    if (reviewer.subject == r.requester)
      return make_error("forbidden", "requesters cannot decide their own review");
    if (!may_decide(r, reviewer))
      return make_error("forbidden", fmt::format("you are not a reviewer of rule \"{}\"", r.rule));
    if (r.status == ReviewStatus::pending && now >= r.expires_at) {
      r.status = ReviewStatus::expired;
      r.decided_at = now;
      expired = true;
      return {};
    }
    if (r.status != ReviewStatus::pending)
      return make_error("conflict",
                        fmt::format("review {} is already {}", r.id, store::to_string(r.status)));
    for (const auto& v : r.votes)
      if (v.reviewer == reviewer.subject)
        return make_error("conflict", fmt::format("you have already decided review {}", r.id));
    r.votes.push_back(store::ReviewVote{reviewer.subject, approve, comment, now});
    if (!approve) {
      r.status = ReviewStatus::rejected;
    } else if (approvals(r) >= r.min_approvals) {
      r.status = ReviewStatus::approved;
      r.grant_expires_at =
          now + (r.kind == ReviewKind::access ? r.duration : current->reviews.grant_lifetime);
    }
    if (r.status != ReviewStatus::pending) {
      decided = true;
      r.decided_at = now;
      r.decided_by = reviewer.subject;
      r.comment = comment;
    }
    return {};
  });
  if (!updated) {
    const auto& code = updated.error().code;
    if (code == "not_found" || code == "forbidden" || code == "conflict") return updated.error();
    return unavailable(updated.error());
  }
  if (expired) {
    --pending_;
    record_step(*updated, "expired", nullptr, "");
    announce(kNotifyExpired, *updated);
    wake(*updated);
    return make_error("conflict", fmt::format("review {} has expired", id));
  }
  const char* verdict = !decided ? "review_pending" : approve ? "approved" : "rejected";
  spdlog::info("event=review_vote review={} reviewer={:?} approve={} status={}", id,
               reviewer.subject, approve, store::to_string(updated->status));
  record_step(*updated, verdict, &reviewer, reviewer.subject);
  if (decided) {
    --pending_;
    announce(approve ? kNotifyApproved : kNotifyRejected, *updated);
    wake(*updated);
  }
  return updated;
}

Result<std::optional<ReviewRecord>> Reviews::find(const std::string& id) {
  auto found = wiring_.store->find_review(id);
  if (!found) return unavailable(found.error());
  return found;
}

Result<std::vector<ReviewRecord>> Reviews::list(std::optional<ReviewStatus> status,
                                                std::size_t limit) {
  auto listed = wiring_.store->list_reviews(status, std::min(limit, kMaxListed));
  if (!listed) return unavailable(listed.error());
  return listed;
}

std::size_t Reviews::expire_overdue(TimePoint now) {
  auto overdue = wiring_.store->overdue_reviews(now);
  if (!overdue) {
    (void)unavailable(overdue.error());
    return 0;
  }
  std::size_t expired = 0;
  for (const auto& candidate : *overdue) {
    auto updated = wiring_.store->update_review(candidate.id, [&](ReviewRecord& r) -> Result<void> {
      if (r.status != ReviewStatus::pending) return make_error("conflict", "decided");
      r.status = ReviewStatus::expired;
      r.decided_at = now;
      return {};
    });
    if (!updated) continue;
    ++expired;
    --pending_;
    spdlog::info("event=review_expired review={} subject={:?}", updated->id, updated->requester);
    record_step(*updated, "expired", nullptr, "");
    announce(kNotifyExpired, *updated);
    wake(*updated);
  }
  return expired;
}

std::int64_t Reviews::pending() const {
  return pending_.load();
}

void Reviews::count_pending() {
  auto listed = wiring_.store->list_reviews(ReviewStatus::pending, 1000000);
  pending_ = listed ? static_cast<std::int64_t>(listed->size()) : 0;
}

void Reviews::record_step(const ReviewRecord& review, std::string_view verdict,
                          const identity::Identity* actor, std::string_view reviewer) {
  if (wiring_.journal == nullptr) return;
  audit::Event event;
  event.event = std::string(audit::kEventReview);
  const std::string step =
      verdict == "expired" ? std::string("expired") : std::to_string(review.votes.size());
  event.id = fmt::format("{}.{}", review.id, step);
  event.time = std::chrono::system_clock::now();
  event.session = review.session;
  if (actor != nullptr) {
    event.subject = actor->subject;
    event.subject_kind = std::string(identity::to_string(actor->kind));
    event.groups = actor->groups;
    event.auth = std::string(identity::to_string(actor->method));
    event.credential = actor->credential;
  } else {
    event.subject = review.requester;
  }
  event.connection = review.connection;
  if (review.kind == ReviewKind::statement) {
    event.protocol = review.protocol;
    event.command = review.command;
  } else {
    event.command = fmt::format(
        "access request: {} for {} s: {}", review.connection,
        std::chrono::duration_cast<std::chrono::seconds>(review.duration).count(), review.reason);
  }
  event.verdict = std::string(verdict);
  event.rule = review.rule;
  event.reviewer = std::string(reviewer);
  event.statement = review.id;
  if (verdict == "rejected" && !review.comment.empty()) event.error = review.comment;
  wiring_.journal->append(std::move(event));
}

void Reviews::announce(std::string_view event, const ReviewRecord& review) {
  if (!wiring_.notify) return;
  Notification notification;
  notification.event = std::string(event);
  notification.review = review;
  const auto current = config();
  notification.api_url = current->notifications.api_url;
  if (notification.api_url.empty() && current->listen.http) {
    const auto& http = *current->listen.http;
    const bool v6 = http.host.find(':') != std::string::npos;
    notification.api_url = fmt::format("{}://{}{}{}:{}", current->tls ? "https" : "http",
                                       v6 ? "[" : "", http.host, v6 ? "]" : "", http.port);
  }
  wiring_.notify(std::move(notification));
}

}  // namespace portcullis::review
