// Schema migrations of the SQLite state store.
#include "store/sqlite_migrations.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <array>
#include <chrono>
#include <string>

namespace portcullis::store {
namespace {

// Times are INTEGER milliseconds since the Unix epoch (UTC); groups a JSON array of strings.
constexpr std::array<Migration, 7> kMigrations{{
    {1, "create api_keys", R"sql(
CREATE TABLE api_keys (
  name         TEXT PRIMARY KEY,
  key_hash     TEXT NOT NULL UNIQUE,
  groups       TEXT NOT NULL DEFAULT '[]',
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER,
  revoked_at   INTEGER
) STRICT;
)sql"},
    // The audit journal: one row per record, columns named and ordered as the record's
    // fields (store/journal_record.h); integers stay INTEGER, lists and maps JSON text.
    {2, "create audit journal", R"sql(
CREATE TABLE audit_events (
  seq            INTEGER PRIMARY KEY,
  id             TEXT NOT NULL,
  time           TEXT NOT NULL,
  instance       TEXT,
  session        TEXT,
  event          TEXT NOT NULL,
  subject        TEXT,
  subject_kind   TEXT,
  "groups"       TEXT,
  auth           TEXT,
  client_addr    TEXT,
  connection     TEXT,
  protocol       TEXT,
  command        TEXT,
  params         TEXT,
  fingerprint    TEXT,
  kinds          TEXT,
  classes        TEXT,
  verdict        TEXT,
  rule           TEXT,
  reviewer       TEXT,
  statement      TEXT,
  "rows"         INTEGER,
  bytes_in       INTEGER,
  bytes_out      INTEGER,
  masked         TEXT,
  duration_us    INTEGER,
  error          TEXT,
  results_sha256 TEXT,
  prev_hash      TEXT NOT NULL,
  hash           TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_subject ON audit_events (subject, seq);
CREATE INDEX audit_events_time ON audit_events (time);
CREATE INDEX audit_events_session ON audit_events (session, seq);
CREATE INDEX audit_events_statement ON audit_events (statement) WHERE statement IS NOT NULL;
-- Masked result rows kept for a record, as JSON; the record holds their SHA-256.
CREATE TABLE audit_results (
  seq  INTEGER PRIMARY KEY,
  body TEXT NOT NULL
) STRICT;
CREATE TABLE audit_checkpoints (
  seq       INTEGER PRIMARY KEY,
  hash      TEXT NOT NULL,
  time      TEXT NOT NULL,
  instance  TEXT,
  key_id    TEXT NOT NULL,
  signature TEXT NOT NULL
) STRICT;
-- One row the journal rewrites to prove the store takes writes again after a failure.
CREATE TABLE audit_probe (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  time INTEGER NOT NULL
) STRICT;
)sql"},
    // The approval workflow: reviews of held statements and access requests, the votes cast
    // on them, and subjects whose credentials were revoked.
    {3, "create reviews and revocations", R"sql(
CREATE TABLE reviews (
  id                TEXT PRIMARY KEY,
  kind              TEXT NOT NULL,
  status            TEXT NOT NULL,
  requester         TEXT NOT NULL,
  requester_groups  TEXT NOT NULL DEFAULT '[]',
  session           TEXT,
  connection        TEXT NOT NULL,
  command           TEXT,
  command_sha256    TEXT,
  rule              TEXT NOT NULL,
  reviewer_groups   TEXT NOT NULL DEFAULT '[]',
  reviewer_subjects TEXT NOT NULL DEFAULT '[]',
  min_approvals     INTEGER NOT NULL,
  reason            TEXT,
  duration_ms       INTEGER NOT NULL DEFAULT 0,
  created_at        INTEGER NOT NULL,
  expires_at        INTEGER NOT NULL,
  decided_at        INTEGER,
  decided_by        TEXT,
  comment           TEXT,
  grant_expires_at  INTEGER,
  executed_at       INTEGER
) STRICT;
CREATE INDEX reviews_status ON reviews (status, created_at);
CREATE INDEX reviews_requester ON reviews (requester, connection, status);
CREATE TABLE review_votes (
  review_id TEXT NOT NULL REFERENCES reviews (id),
  reviewer  TEXT NOT NULL,
  approve   INTEGER NOT NULL,
  comment   TEXT,
  time      INTEGER NOT NULL,
  PRIMARY KEY (review_id, reviewer)
) STRICT;
CREATE TABLE revocations (
  subject    TEXT PRIMARY KEY,
  revoked_at INTEGER NOT NULL,
  revoked_by TEXT NOT NULL,
  reason     TEXT
) STRICT;
)sql"},
    // A full (session, seq) index cost the journal's writer 5.5k of its ~65k instructions per
    // event. A session search needs only where the session starts: it reads on by seq from its
    // connect record (store/sqlite_journal_store.cc), so only connect records are indexed.
    {4, "index only the connect record of each session", R"sql(
DROP INDEX IF EXISTS audit_events_session;
CREATE INDEX audit_events_session_start ON audit_events (session, seq) WHERE event = 'connect';
)sql"},
    // Held commands come from every front end: a review says which protocol holds it.
    {5, "record the protocol of held statements", R"sql(
ALTER TABLE reviews ADD COLUMN protocol TEXT;
UPDATE reviews SET protocol = 'postgres' WHERE kind = 'statement';
)sql"},
    // SSH public keys registered to subjects (#17). A key logs in as one subject only: its
    // fingerprint is unique among keys not removed; removed rows stay for account review.
    {6, "create ssh_keys", R"sql(
CREATE TABLE ssh_keys (
  id          TEXT PRIMARY KEY,
  subject     TEXT NOT NULL,
  groups      TEXT NOT NULL DEFAULT '[]',
  public_key  TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  created_by  TEXT NOT NULL,
  expires_at  INTEGER,
  removed_at  INTEGER,
  removed_by  TEXT
) STRICT;
CREATE UNIQUE INDEX ssh_keys_fingerprint_in_force ON ssh_keys (fingerprint)
  WHERE removed_at IS NULL;
CREATE INDEX ssh_keys_subject ON ssh_keys (subject, created_at);
)sql"},
    // Which credential a caller logged in with (a registered SSH key's id and fingerprint, an
    // API key's name, ...): the record field appended after results_sha256. Not indexed: each
    // index costs the indexer on every record.
    {7, "record the credential of each event", R"sql(
ALTER TABLE audit_events ADD COLUMN credential TEXT;
)sql"},
}};

Result<void> exec(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return make_error(text);
  }
  return {};
}

Result<int> current_version(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1, &stmt,
                         nullptr) != SQLITE_OK)
    return make_error(sqlite3_errmsg(db));
  int version = 0;
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) return make_error(sqlite3_errmsg(db));
  return version;
}

Result<void> migrate_locked(sqlite3* db) {
  if (auto r = exec(db,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY,"
                    " description TEXT NOT NULL,"
                    " applied_at INTEGER NOT NULL) STRICT");
      !r)
    return r;
  auto version = current_version(db);
  if (!version) return version.error();
  const int latest = kMigrations.back().version;
  if (*version > latest)
    return make_error(
        fmt::format("the state store's schema is version {}, newer than this portcullis knows ({})",
                    *version, latest));
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (const auto& migration : kMigrations) {
    if (migration.version <= *version) continue;
    if (auto r = exec(db, std::string(migration.sql)); !r)
      return make_error(fmt::format("migration {} ({}): {}", migration.version,
                                    migration.description, r.error().message));
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO schema_migrations (version, description, applied_at) "
                           "VALUES (?, ?, ?)",
                           -1, &stmt, nullptr) != SQLITE_OK)
      return make_error(sqlite3_errmsg(db));
    sqlite3_bind_int(stmt, 1, migration.version);
    sqlite3_bind_text(stmt, 2, migration.description.data(),
                      static_cast<int>(migration.description.size()), SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    const int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return make_error(sqlite3_errmsg(db));
  }
  return {};
}

}  // namespace

std::span<const Migration> sqlite_migrations() {
  return kMigrations;
}

Result<void> apply_sqlite_migrations(sqlite3* db) {
  if (auto r = exec(db, "BEGIN IMMEDIATE"); !r)
    return make_error("cannot start the schema migration: " + r.error().message);
  auto migrated = migrate_locked(db);
  if (!migrated) {
    (void)exec(db, "ROLLBACK");
    return make_error("cannot migrate the state store: " + migrated.error().message);
  }
  if (auto r = exec(db, "COMMIT"); !r) {
    (void)exec(db, "ROLLBACK");
    return make_error("cannot commit the schema migration: " + r.error().message);
  }
  return {};
}

}  // namespace portcullis::store
