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

#include "store/sqlite_migrations.h"

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

struct StatementDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

struct DatabaseDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Database = std::unique_ptr<sqlite3, DatabaseDeleter>;

// Resets a cached statement when the call using it returns, however it returns.
class StatementUse {
 public:
  explicit StatementUse(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StatementUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
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

std::string column_text(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text == nullptr ? std::string() : std::string(text, sqlite3_column_bytes(stmt, column));
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
  SqliteStore(Database db, std::filesystem::path file)
      : db_(std::move(db)), file_(std::move(file)) {}

  Result<void> prepare_statements() {
    const std::string columns = kApiKeyColumns;
    const std::pair<Statement*, std::string> statements[] = {
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
      sqlite3_stmt* stmt = nullptr;
      // PERSISTENT: these statements live as long as the connection.
      if (sqlite3_prepare_v3(db_.get(), sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                             nullptr) != SQLITE_OK)
        return failure("cannot prepare statement");
      target->reset(stmt);
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
  Database db_;
  std::filesystem::path file_;
  Statement insert_api_key_;
  Statement find_api_key_;
  Statement list_api_keys_;
  Statement revoke_api_key_;
  Statement touch_api_key_;
};

Result<void> exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return make_error(sqlite3_errmsg(db));
  return {};
}

}  // namespace

Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::filesystem::path& file) {
  std::error_code ec;
  if (file.has_parent_path()) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec)
      return make_error(fmt::format("cannot create folder {} for the state store: {}",
                                    file.parent_path().string(), ec.message()));
  }
  sqlite3* raw = nullptr;
  // NOMUTEX: the store serialises access itself; SQLite's own mutex would be a second lock.
  const int rc =
      sqlite3_open_v2(file.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Database db(raw);
  if (rc != SQLITE_OK)
    return make_error(fmt::format("cannot open state store {}: {}", file.string(),
                                  raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  // WAL: readers and the writer do not block each other; checked because a file system that
  // cannot do WAL (some network mounts) silently keeps the old journal mode.
  sqlite3_stmt* stmt = nullptr;
  std::string mode;
  if (sqlite3_prepare_v2(db.get(), "PRAGMA journal_mode=WAL", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    if (text != nullptr) mode = text;
  }
  sqlite3_finalize(stmt);
  if (mode != "wal")
    return make_error(fmt::format("state store {}: cannot switch to WAL mode: {}", file.string(),
                                  mode.empty() ? sqlite3_errmsg(db.get()) : mode.c_str()));
  if (auto r = exec(db.get(), "PRAGMA foreign_keys=ON"); !r)
    return make_error(fmt::format("state store {}: {}", file.string(), r.error().message));
  if (auto r = apply_sqlite_migrations(db.get()); !r)
    return make_error(fmt::format("state store {}: {}", file.string(), r.error().message));

  auto store = std::make_unique<SqliteStore>(std::move(db), file);
  if (auto r = store->prepare_statements(); !r) return r.error();
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace portcullis::store
