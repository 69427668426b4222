// The SQLite state store: one database file in WAL mode, one connection guarded by a mutex.
#pragma once

#include <filesystem>
#include <memory>

#include "common/result.h"
#include "store/state_store.h"

namespace portcullis::store {

// Opens (creating the file and its folder as needed) and migrates the database at `file`.
Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::filesystem::path& file);

}  // namespace portcullis::store
