// StateStore: the gateway's durable state (API keys now; journal, reviews, grants and
// revocations as they come). SQLite is the embedded default; a PostgreSQL store can follow
// behind the same interface for several gateway instances.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/review_record.h"

namespace portcullis::store {

using TimePoint = std::chrono::system_clock::time_point;

struct ApiKeyRecord {
  std::string name;      // unique, chosen by the operator
  std::string key_hash;  // hex SHA-256 of the whole key; the key itself is never stored
  std::vector<std::string> groups;
  TimePoint created_at;
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> last_used_at;
  bool revoked = false;
};

// A subject whose credentials issued at or before `revoked_at` are refused.
struct RevocationRecord {
  std::string subject;
  TimePoint revoked_at;
  std::string revoked_by;
  std::string reason;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual Result<void> insert_api_key(const ApiKeyRecord& record) = 0;
  virtual Result<std::optional<ApiKeyRecord>> find_api_key_by_hash(std::string_view key_hash) = 0;
  virtual Result<std::vector<ApiKeyRecord>> list_api_keys() = 0;
  virtual Result<bool> revoke_api_key(std::string_view name) = 0;  // false: no such key
  virtual Result<void> touch_api_key(std::string_view name, TimePoint used_at) = 0;

  // Reviews. `insert_review` stores a new one with its votes (normally none).
  virtual Result<void> insert_review(const ReviewRecord& review) = 0;
  virtual Result<std::optional<ReviewRecord>> find_review(std::string_view id) = 0;
  // Newest first, at most `limit`; every status when `status` is empty.
  virtual Result<std::vector<ReviewRecord>> list_reviews(std::optional<ReviewStatus> status,
                                                         std::size_t limit) = 0;
  // Reads the review, lets `change` modify it (its error aborts), and writes it back with its
  // votes, all in one write transaction: two reviewers deciding at once (on one instance or
  // several sharing the store) see each other's votes. Error code "not_found" if absent.
  using ReviewChange = std::function<Result<void>(ReviewRecord&)>;
  virtual Result<ReviewRecord> update_review(std::string_view id, const ReviewChange& change) = 0;
  // Approved reviews of `kind` asked by `requester` on `connection` whose grant runs past
  // `now`, newest first.
  virtual Result<std::vector<ReviewRecord>> approved_reviews(ReviewKind kind,
                                                             std::string_view requester,
                                                             std::string_view connection,
                                                             TimePoint now) = 0;
  // Pending reviews whose `expires_at` is at or before `now`.
  virtual Result<std::vector<ReviewRecord>> overdue_reviews(TimePoint now) = 0;

  // Revocations: one per subject, the latest time kept.
  virtual Result<void> upsert_revocation(const RevocationRecord& revocation) = 0;
  virtual Result<std::optional<RevocationRecord>> find_revocation(std::string_view subject) = 0;
};

// Opens (creating and migrating as needed) the store named by a normalised state URL:
// `sqlite:///abs/path.db`. Thread-safe: sessions on every I/O thread may call it.
Result<std::unique_ptr<StateStore>> open_state_store(std::string_view url);

}  // namespace portcullis::store
