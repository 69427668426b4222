// Schema migrations of the PostgreSQL state store.
#include "store/postgres_migrations.h"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <string>

#include "store/postgres_support.h"

namespace portcullis::store {
namespace {

// The logical schema of the SQLite store (sqlite_migrations.cc), in PostgreSQL types. Times are
// BIGINT milliseconds since the Unix epoch (UTC), as in SQLite, so that both stores compare and
// order them the same way and keep the same precision; groups are JSONB arrays of strings.
constexpr std::array<PostgresMigration, 5> kMigrations{{
    {1, "create api_keys", R"sql(
CREATE TABLE api_keys (
  name         TEXT PRIMARY KEY,
  key_hash     TEXT NOT NULL UNIQUE,
  groups       JSONB NOT NULL DEFAULT '[]',
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT,
  last_used_at BIGINT,
  revoked_at   BIGINT
);
)sql"},
    // The approval workflow: reviews of held statements and access requests, the votes cast
    // on them, and subjects whose credentials were revoked.
    {2, "create reviews and revocations", R"sql(
CREATE TABLE reviews (
  id                TEXT PRIMARY KEY,
  kind              TEXT NOT NULL,
  status            TEXT NOT NULL,
  requester         TEXT NOT NULL,
  requester_groups  JSONB NOT NULL DEFAULT '[]',
  session           TEXT,
  connection        TEXT NOT NULL,
  command           TEXT,
  command_sha256    TEXT,
  rule              TEXT NOT NULL,
  reviewer_groups   JSONB NOT NULL DEFAULT '[]',
  reviewer_subjects JSONB NOT NULL DEFAULT '[]',
  min_approvals     BIGINT NOT NULL,
  reason            TEXT,
  duration_ms       BIGINT NOT NULL DEFAULT 0,
  created_at        BIGINT NOT NULL,
  expires_at        BIGINT NOT NULL,
  decided_at        BIGINT,
  decided_by        TEXT,
  comment           TEXT,
  grant_expires_at  BIGINT,
  executed_at       BIGINT,
  protocol          TEXT
);
CREATE INDEX reviews_status ON reviews (status, created_at);
CREATE INDEX reviews_requester ON reviews (requester, connection, status);
-- A review's votes are rewritten whole on each change; `seq` keeps the order they were cast
-- in among votes of the same time, as SQLite's rowid does.
CREATE TABLE review_votes (
  review_id TEXT NOT NULL REFERENCES reviews (id),
  reviewer  TEXT NOT NULL,
  approve   BOOLEAN NOT NULL,
  comment   TEXT,
  time      BIGINT NOT NULL,
  seq       BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (review_id, reviewer)
);
CREATE TABLE revocations (
  subject    TEXT PRIMARY KEY,
  revoked_at BIGINT NOT NULL,
  revoked_by TEXT NOT NULL,
  reason     TEXT
);
)sql"},
    // SSH public keys registered to subjects. A key logs in as one subject only: its
    // fingerprint is unique among keys not removed; removed rows stay for account review.
    {3, "create ssh_keys", R"sql(
CREATE TABLE ssh_keys (
  id          TEXT PRIMARY KEY,
  subject     TEXT NOT NULL,
  groups      JSONB NOT NULL DEFAULT '[]',
  public_key  TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  created_by  TEXT NOT NULL,
  expires_at  BIGINT,
  removed_at  BIGINT,
  removed_by  TEXT
);
CREATE UNIQUE INDEX ssh_keys_fingerprint_in_force ON ssh_keys (fingerprint)
  WHERE removed_at IS NULL;
CREATE INDEX ssh_keys_subject ON ssh_keys (subject, created_at);
)sql"},
    // The audit journal's index: each instance's chain (`chain` is the instance name it was
    // opened for), and `position`, given in commit order across chains, for searches and
    // live tails. Columns named and typed as the record's fields (store/journal_record.h).
    {4, "create audit journal", R"sql(
CREATE TABLE audit_events (
  chain          text   NOT NULL,
  position       bigint PRIMARY KEY,
  seq            bigint NOT NULL,
  id             text   NOT NULL,
  "time"         text   NOT NULL,
  instance       text,
  session        text,
  event          text   NOT NULL,
  subject        text,
  subject_kind   text,
  "groups"       text,
  auth           text,
  client_addr    text,
  connection     text,
  protocol       text,
  command        text,
  params         text,
  fingerprint    text,
  kinds          text,
  classes        text,
  verdict        text,
  rule           text,
  reviewer       text,
  statement      text,
  "rows"         bigint,
  bytes_in       bigint,
  bytes_out      bigint,
  masked         text,
  duration_us    bigint,
  error          text,
  results_sha256 text,
  prev_hash      text   NOT NULL,
  hash           text   NOT NULL,
  UNIQUE (chain, seq)
);
CREATE INDEX audit_events_subject ON audit_events (subject, position);
CREATE INDEX audit_events_time ON audit_events ("time");
CREATE INDEX audit_events_session ON audit_events (session, position);
CREATE INDEX audit_events_statement ON audit_events (statement) WHERE statement IS NOT NULL;
-- Masked result rows kept for a record, as JSON; the record holds their SHA-256.
CREATE TABLE audit_results (
  chain text   NOT NULL,
  seq   bigint NOT NULL,
  body  text   NOT NULL,
  PRIMARY KEY (chain, seq)
);
CREATE TABLE audit_checkpoints (
  chain     text   NOT NULL,
  seq       bigint NOT NULL,
  hash      text   NOT NULL,
  "time"    text   NOT NULL,
  instance  text,
  key_id    text   NOT NULL,
  signature text   NOT NULL,
  PRIMARY KEY (chain, seq)
);
-- A row per instance its journal rewrites to prove the store takes writes.
CREATE TABLE audit_probe (
  chain text PRIMARY KEY,
  at    timestamptz NOT NULL
);
)sql"},
    // Which credential a caller logged in with: the record field appended after
    // results_sha256. Not indexed: each index costs the indexer on every record.
    {5, "record the credential of each event", R"sql(
ALTER TABLE audit_events ADD COLUMN credential text;
)sql"},
}};

// Runs `sql`, which may hold several statements (the simple query protocol).
Result<void> exec_script(PGconn* conn, std::string_view sql) {
  PgResult result(PQexec(conn, std::string(sql).c_str()));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
  std::string message = result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn);
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return make_error(message);
}

Result<void> exec(PGconn* conn, std::string_view sql, const std::vector<PgParam>& params = {}) {
  auto execution = pg_exec(conn, sql, params);
  if (!execution.ok()) return make_error(pg_error_message(conn, execution));
  return {};
}

Result<int> current_version(PGconn* conn) {
  auto execution = pg_exec(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!execution.ok()) return make_error(pg_error_message(conn, execution));
  return static_cast<int>(pg_int64(execution.result.get(), 0, 0));
}

// The caller holds the migration lock in an open transaction.
Result<void> migrate_locked(PGconn* conn) {
  if (auto r = exec(conn,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY,"
                    " name TEXT NOT NULL,"
                    " applied_at BIGINT NOT NULL)");
      !r)
    return r;
  auto version = current_version(conn);
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
    if (auto r = exec_script(conn, migration.sql); !r)
      return make_error(fmt::format("migration {} ({}): {}", migration.version, migration.name,
                                    r.error().message));
    if (auto r = exec(
            conn,
            "INSERT INTO schema_migrations (version, name, applied_at) "
            "VALUES ($1, $2, $3)",
            {std::to_string(migration.version), std::string(migration.name), std::to_string(now)});
        !r)
      return r;
  }
  return {};
}

}  // namespace

std::span<const PostgresMigration> postgres_migrations() {
  return kMigrations;
}

Result<void> apply_postgres_migrations(PGconn* conn) {
  if (auto r = exec(conn, "BEGIN"); !r)
    return make_error("cannot start the schema migration: " + r.error().message);
  // Taken before anything is read: a second instance waits here until the first commits, then
  // finds the schema current. Released by COMMIT or ROLLBACK, or when the connection drops.
  auto migrated =
      exec(conn, "SELECT pg_advisory_xact_lock($1)", {std::to_string(kMigrationLockKey)});
  if (migrated) migrated = migrate_locked(conn);
  if (!migrated) {
    (void)exec(conn, "ROLLBACK");
    return make_error("cannot migrate the state store: " + migrated.error().message);
  }
  if (auto r = exec(conn, "COMMIT"); !r) {
    (void)exec(conn, "ROLLBACK");
    return make_error("cannot commit the schema migration: " + r.error().message);
  }
  return {};
}

}  // namespace portcullis::store
