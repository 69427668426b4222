// The journal's index in a PostgreSQL store shared by several gateway instances: each instance
// appends its own chain (rows keyed by instance and seq), and a position given in commit order
// across every chain is the cursor searches and live tails follow.
#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "store/journal_store.h"

namespace portcullis::store {

// A connection of its own to the database `url` names (migrated first unless read-only), for
// the chain of options.instance.
Result<std::unique_ptr<JournalStore>> open_postgres_journal_store(
    std::string_view url, const JournalStoreOptions& options);

}  // namespace portcullis::store
