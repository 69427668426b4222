// The versioned schema of the PostgreSQL state store. Migrations are applied in order, each
// once, and recorded in `schema_migrations`; an applied migration is never edited, only
// followed.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <span>
#include <string_view>

#include "common/result.h"

namespace portcullis::store {

struct PostgresMigration {
  int version;
  std::string_view name;
  std::string_view sql;
};

std::span<const PostgresMigration> postgres_migrations();

// The advisory lock every instance takes before migrating: "portcull" in ASCII, a key no other
// application is likely to use on a shared database.
constexpr int64_t kMigrationLockKey = 0x706f727463756c6c;

// Brings the database to the latest version in one transaction under
// pg_advisory_xact_lock(kMigrationLockKey), so that instances starting at once migrate one
// after the other and the later ones find nothing left to do. Refuses a database whose schema
// is newer than this binary knows.
Result<void> apply_postgres_migrations(PGconn* conn);

}  // namespace portcullis::store
