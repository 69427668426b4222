// StateStore: the gateway's durable state (API keys now; journal, reviews, grants and
// revocations as they come). SQLite is the embedded default; a PostgreSQL store can follow
// behind the same interface for several gateway instances.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

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

class StateStore {
 public:
  virtual ~StateStore() = default;

  virtual Result<void> insert_api_key(const ApiKeyRecord& record) = 0;
  virtual Result<std::optional<ApiKeyRecord>> find_api_key_by_hash(std::string_view key_hash) = 0;
  virtual Result<std::vector<ApiKeyRecord>> list_api_keys() = 0;
  virtual Result<bool> revoke_api_key(std::string_view name) = 0;  // false: no such key
  virtual Result<void> touch_api_key(std::string_view name, TimePoint used_at) = 0;
};

// Opens (creating and migrating as needed) the store named by a normalised state URL:
// `sqlite:///abs/path.db`. Thread-safe: sessions on every I/O thread may call it.
Result<std::unique_ptr<StateStore>> open_state_store(std::string_view url);

}  // namespace portcullis::store
