// Opening SQLite databases the same way for every store.
#include "store/sqlite_support.h"

#include <fmt/format.h>

#include <system_error>

#include "store/sqlite_migrations.h"

namespace portcullis::store {

Result<void> sqlite_exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return make_error(sqlite3_errmsg(db));
  return {};
}

Result<SqliteStatement> sqlite_prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  // PERSISTENT: the statement lives as long as the connection.
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK)
    return make_error(sqlite3_errmsg(db));
  return SqliteStatement(stmt);
}

Result<SqliteDatabase> open_sqlite_database(const std::filesystem::path& file,
                                            const SqliteOpenOptions& options) {
  if (!options.read_only && file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec)
      return make_error(fmt::format("cannot create folder {} for the state store: {}",
                                    file.parent_path().string(), ec.message()));
  }
  sqlite3* raw = nullptr;
  // NOMUTEX: each store serialises access to its connection itself.
  const int flags =
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  SqliteDatabase db(raw);
  if (rc != SQLITE_OK)
    return make_error(fmt::format("cannot open state store {}: {}", file.string(),
                                  raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  if (options.read_only) return db;
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
  if (auto r = sqlite_exec(db.get(), "PRAGMA foreign_keys=ON"); !r)
    return make_error(fmt::format("state store {}: {}", file.string(), r.error().message));
  if (auto r = apply_sqlite_migrations(db.get()); !r)
    return make_error(fmt::format("state store {}: {}", file.string(), r.error().message));
  return db;
}

}  // namespace portcullis::store
