// JournalLock: holds the journal's SQLite write lock the way another process would, until
// released, so that tests can make the journal unwritable without touching its file.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>

namespace portcullis {

// Holds the journal's write lock the way another process would, until released.
class JournalLock {
 public:
  explicit JournalLock(const std::filesystem::path& file) {
    if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("cannot open");
    // The gateway may be committing earlier records right now: wait for it, as a real
    // competing writer would.
    sqlite3_busy_timeout(db_, 10000);
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_));
  }
  ~JournalLock() { release(); }
  void release() {
    if (!db_) return;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace portcullis
