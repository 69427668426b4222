// The versioned schema of the SQLite state store. Migrations are applied in order, each once,
// and recorded in `schema_migrations`; an applied migration is never edited, only followed.
#pragma once

#include <span>
#include <string_view>

struct sqlite3;

#include "common/result.h"

namespace portcullis::store {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

std::span<const Migration> sqlite_migrations();

// Brings the database to the latest version in one immediate transaction, so that two
// processes opening the same file never migrate it twice. Refuses a database whose schema is
// newer than this binary knows.
Result<void> apply_sqlite_migrations(sqlite3* db);

}  // namespace portcullis::store
