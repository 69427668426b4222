// A review as the state store keeps it: a held statement or a just-in-time access request
// waiting for, or decided by, the people a rule names. What the fields mean for the workflow
// is review/'s business; the store only keeps and finds them.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::store {

using TimePoint = std::chrono::system_clock::time_point;

enum class ReviewKind {
  statement,  // a statement held by a guardrail with action: review
  access,     // a request for a connection (an access rule with requires_request: true)
};

enum class ReviewStatus {
  pending,   // waiting for reviewers
  approved,  // enough reviewers approved; a statement may run once, access is granted
  rejected,  // a reviewer rejected it
  expired,   // nobody decided within reviews.pending_lifetime
  executed,  // an approved statement ran (it runs once)
};

std::string_view to_string(ReviewKind kind);
std::string_view to_string(ReviewStatus status);
std::optional<ReviewKind> parse_review_kind(std::string_view text);
std::optional<ReviewStatus> parse_review_status(std::string_view text);

struct ReviewVote {
  std::string reviewer;  // subject
  bool approve = false;
  std::string comment;
  TimePoint time;
};

struct ReviewRecord {
  std::string id;  // short and unguessable, e.g. "r-7k3qx9p2m4"
  ReviewKind kind = ReviewKind::statement;
  ReviewStatus status = ReviewStatus::pending;
  std::string requester;  // subject
  std::vector<std::string> requester_groups;
  std::string protocol;        // statement: the front end that holds it ("postgres")
  std::string session;         // statement: the session that holds it
  std::string connection;      // the connection's name in the configuration
  std::string command;         // statement: its text, secrets replaced by '***'
  std::string command_sha256;  // hex SHA-256 of the exact text, to match a re-run
  std::string rule;            // the guardrail or access rule that asked for the review
  std::vector<std::string> reviewer_groups;
  std::vector<std::string> reviewer_subjects;
  std::size_t min_approvals = 1;
  std::string reason;                     // access: why the requester asks
  std::chrono::milliseconds duration{0};  // access: how long the access is asked for
  TimePoint created_at;
  TimePoint expires_at;  // pending until then at the latest
  std::optional<TimePoint> decided_at;
  std::string decided_by;  // the reviewer whose vote decided it
  std::string comment;     // that reviewer's comment
  // Approved: until when the access is granted, or the statement may be run again once.
  std::optional<TimePoint> grant_expires_at;
  std::optional<TimePoint> executed_at;
  std::vector<ReviewVote> votes;  // in the order cast
};

}  // namespace portcullis::store
