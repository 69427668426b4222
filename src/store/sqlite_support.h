// What every SQLite-backed store shares: owning handles, statement reuse, and opening a
// database file in WAL mode with the schema migrated.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::store {

struct SqliteStatementDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteStatement = std::unique_ptr<sqlite3_stmt, SqliteStatementDeleter>;

struct SqliteDatabaseDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteDatabase = std::unique_ptr<sqlite3, SqliteDatabaseDeleter>;

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

inline void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

inline std::string column_text(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text == nullptr ? std::string() : std::string(text, sqlite3_column_bytes(stmt, column));
}

Result<void> sqlite_exec(sqlite3* db, const char* sql);
// Prepared for the connection's lifetime.
Result<SqliteStatement> sqlite_prepare(sqlite3* db, std::string_view sql);

struct SqliteOpenOptions {
  int busy_timeout_ms = 5000;
  bool read_only = false;  // no create, no migration: the schema must be current already
};

// Opens (creating the file and its folder unless read-only) the database at `file` in WAL
// mode and brings its schema to the latest version.
Result<SqliteDatabase> open_sqlite_database(const std::filesystem::path& file,
                                            const SqliteOpenOptions& options);

}  // namespace portcullis::store
