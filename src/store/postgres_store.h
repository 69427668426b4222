// The PostgreSQL state store, for several gateway instances sharing one database: one
// connection behind a mutex, re-established by itself when it breaks.
#pragma once

#include <memory>
#include <string_view>

#include "common/result.h"
#include "store/state_store.h"

namespace portcullis::store {

// Connects to the database a postgresql:// (or postgres://) URL names and migrates it. The
// password may come from the URL, PGPASSFILE, or PORTCULLIS_STATE_PASSWORD; no message repeats
// it. A database that cannot be reached is an error with code "unavailable".
//
// Every call takes the store's one connection in turn. A call whose connection turns out to be
// broken reconnects once and runs again when that is safe: a read, or a write that never sent
// its commit (so it cannot have taken effect; update_review then reads the review afresh and
// calls its change again). Otherwise the call fails with code "unavailable", and the next call
// reconnects.
Result<std::unique_ptr<StateStore>> open_postgres_store(std::string_view url);

}  // namespace portcullis::store
