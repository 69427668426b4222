// StateStore on SQLite: WAL mode so readers never wait for the writer, a busy timeout for a
// second process on the same file, prepared statements, one connection behind a mutex.
#include "store/sqlite_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <mutex>
#include <system_error>

#include "store/sqlite_support.h"

namespace portcullis::store {
namespace {

// How long a statement waits for another process's write lock before failing.
constexpr int kBusyTimeoutMs = 5000;

int64_t to_millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint from_millis(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

void bind_optional_time(sqlite3_stmt* stmt, int index, const std::optional<TimePoint>& t) {
  if (t)
    sqlite3_bind_int64(stmt, index, to_millis(*t));
  else
    sqlite3_bind_null(stmt, index);
}

std::optional<TimePoint> column_optional_time(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) return std::nullopt;
  return from_millis(sqlite3_column_int64(stmt, column));
}

std::string groups_to_json(const std::vector<std::string>& groups) {
  boost::json::array array;
  for (const auto& group : groups) array.emplace_back(group);
  return boost::json::serialize(array);
}

std::vector<std::string> groups_from_json(std::string_view text) {
  std::vector<std::string> groups;
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  if (ec || !value.is_array()) return groups;
  for (const auto& item : value.get_array())
    if (item.is_string()) groups.emplace_back(item.get_string());
  return groups;
}

constexpr const char* kApiKeyColumns =
    "name, key_hash, groups, created_at, expires_at, last_used_at, revoked_at";

ApiKeyRecord read_api_key(sqlite3_stmt* stmt) {
  ApiKeyRecord record;
  record.name = column_text(stmt, 0);
  record.key_hash = column_text(stmt, 1);
  record.groups = groups_from_json(column_text(stmt, 2));
  record.created_at = from_millis(sqlite3_column_int64(stmt, 3));
  record.expires_at = column_optional_time(stmt, 4);
  record.last_used_at = column_optional_time(stmt, 5);
  record.revoked = sqlite3_column_type(stmt, 6) != SQLITE_NULL;
  return record;
}

class SqliteStore final : public StateStore {
 public:
  SqliteStore(SqliteDatabase db, std::filesystem::path file)
      : db_(std::move(db)), file_(std::move(file)) {}

  Result<void> prepare_statements() {
    const std::string columns = kApiKeyColumns;
    const std::pair<SqliteStatement*, std::string> statements[] = {
        {&insert_api_key_,
         "INSERT INTO api_keys (name, key_hash, groups, created_at, expires_at) "
         "VALUES (?, ?, ?, ?, ?)"},
        {&find_api_key_, "SELECT " + columns + " FROM api_keys WHERE key_hash = ?"},
        {&list_api_keys_, "SELECT " + columns + " FROM api_keys ORDER BY name"},
        {&revoke_api_key_,
         "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE name = ?"},
        {&touch_api_key_,
         "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE name = ?"},
    };
    for (const auto& [target, sql] : statements) {
      auto stmt = sqlite_prepare(db_.get(), sql);
      if (!stmt) return failure("cannot prepare statement");
      *target = std::move(*stmt);
    }
    return {};
  }

  Result<void> insert_api_key(const ApiKeyRecord& record) override {
    std::lock_guard lock(mutex_);
    StatementUse use(insert_api_key_.get());
    bind_text(use.get(), 1, record.name);
    bind_text(use.get(), 2, record.key_hash);
    bind_text(use.get(), 3, groups_to_json(record.groups));
    sqlite3_bind_int64(use.get(), 4, to_millis(record.created_at));
    bind_optional_time(use.get(), 5, record.expires_at);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_DONE) return {};
    if (sqlite3_extended_errcode(db_.get()) == SQLITE_CONSTRAINT_PRIMARYKEY)
      return make_error(fmt::format("an API key named \"{}\" already exists", record.name));
    return failure("cannot store the API key");
  }

  Result<std::optional<ApiKeyRecord>> find_api_key_by_hash(std::string_view key_hash) override {
    std::lock_guard lock(mutex_);
    StatementUse use(find_api_key_.get());
    bind_text(use.get(), 1, key_hash);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_ROW) return std::optional<ApiKeyRecord>(read_api_key(use.get()));
    if (rc == SQLITE_DONE) return std::optional<ApiKeyRecord>();
    return failure("cannot look up the API key");
  }

  Result<std::vector<ApiKeyRecord>> list_api_keys() override {
    std::lock_guard lock(mutex_);
    StatementUse use(list_api_keys_.get());
    std::vector<ApiKeyRecord> records;
    int rc;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) records.push_back(read_api_key(use.get()));
    if (rc != SQLITE_DONE) return failure("cannot list API keys");
    return records;
  }

  Result<bool> revoke_api_key(std::string_view name) override {
    std::lock_guard lock(mutex_);
    StatementUse use(revoke_api_key_.get());
    sqlite3_bind_int64(use.get(), 1, to_millis(std::chrono::system_clock::now()));
    bind_text(use.get(), 2, name);
    if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot revoke the API key");
    return sqlite3_changes(db_.get()) > 0;
  }

  Result<void> touch_api_key(std::string_view name, TimePoint used_at) override {
    std::lock_guard lock(mutex_);
    StatementUse use(touch_api_key_.get());
    sqlite3_bind_int64(use.get(), 1, to_millis(used_at));
    bind_text(use.get(), 2, name);
    if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot record the API key's use");
    return {};
  }

 private:
  Error failure(std::string_view what) const {
    return make_error(
        fmt::format("state store {}: {}: {}", file_.string(), what, sqlite3_errmsg(db_.get())));
  }

  std::mutex mutex_;
  SqliteDatabase db_;
  std::filesystem::path file_;
  SqliteStatement insert_api_key_;
  SqliteStatement find_api_key_;
  SqliteStatement list_api_keys_;
  SqliteStatement revoke_api_key_;
  SqliteStatement touch_api_key_;
};

}  // namespace

Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::filesystem::path& file) {
  auto db = open_sqlite_database(file, SqliteOpenOptions{.busy_timeout_ms = kBusyTimeoutMs});
  if (!db) return db.error();
  auto store = std::make_unique<SqliteStore>(std::move(*db), file);
  if (auto r = store->prepare_statements(); !r) return r.error();
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace portcullis::store
