// The audit journal's SQLite store: tables in the state store's database file.
#pragma once

#include <filesystem>
#include <memory>

#include "common/result.h"
#include "store/journal_store.h"

namespace portcullis::store {

Result<std::unique_ptr<JournalStore>> open_sqlite_journal_store(const std::filesystem::path& file,
                                                                const JournalStoreOptions& options);

}  // namespace portcullis::store
