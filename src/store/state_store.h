// StateStore: the gateway's durable state: API keys, SSH keys registered to subjects,
// reviews and revocations. SQLite is the embedded default; PostgreSQL serves several gateway
// instances behind the same interface.
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

// An SSH public key registered to a subject (a service account): a login with it is that
// subject with these groups, as an API key is. Removed keys are kept for account review.
struct SshKeyRecord {
  std::string id;  // "k-" and random letters, made when registered
  std::string subject;
  std::vector<std::string> groups;
  std::string public_key;   // "TYPE BASE64 [COMMENT]", as the gateway normalised it
  std::string fingerprint;  // "SHA256:..." of the key's blob, as ssh-keygen -l prints it
  TimePoint created_at;
  std::string created_by;
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> removed_at;
  std::string removed_by;
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

  // SSH keys. A fingerprint is registered at most once among keys not removed: error code
  // "conflict" when it is. `find_ssh_key` gives the key in force (not removed) with that
  // fingerprint; `list_ssh_keys` every key of `subject` (all subjects when empty), removed ones
  // included, oldest first; `remove_ssh_key` is false when no key in force has that id.
  virtual Result<void> insert_ssh_key(const SshKeyRecord& record) = 0;
  virtual Result<std::optional<SshKeyRecord>> find_ssh_key(std::string_view fingerprint) = 0;
  virtual Result<std::vector<SshKeyRecord>> list_ssh_keys(std::string_view subject) = 0;
  virtual Result<bool> remove_ssh_key(std::string_view id, TimePoint removed_at,
                                      std::string_view removed_by) = 0;

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
// `sqlite:///abs/path.db` or `postgresql://...` (`postgres://...`). Thread-safe: sessions on
// every I/O thread may call it.
Result<std::unique_ptr<StateStore>> open_state_store(std::string_view url);

}  // namespace portcullis::store
