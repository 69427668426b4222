// StateStore on SQLite: WAL mode so readers never wait for the writer, a busy timeout for a
// second process on the same file, prepared statements, one connection behind a mutex.
#include "store/sqlite_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <functional>
#include <mutex>
#include <system_error>

#include "store/record_encoding.h"
#include "store/sqlite_support.h"

namespace portcullis::store {
namespace {

// How long a statement waits for another process's write lock before failing.
constexpr int kBusyTimeoutMs = 5000;

void bind_optional_time(sqlite3_stmt* stmt, int index, const std::optional<TimePoint>& t) {
  if (t)
    sqlite3_bind_int64(stmt, index, to_millis(*t));
  else
    sqlite3_bind_null(stmt, index);
}

std::optional<TimePoint> column_optional_time(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) return std::nullopt;
  return from_millis(sqlite3_column_int64(stmt, column));
}

constexpr const char* kApiKeyColumns =
    "name, key_hash, groups, created_at, expires_at, last_used_at, revoked_at";

ApiKeyRecord read_api_key(sqlite3_stmt* stmt) {
  ApiKeyRecord record;
  record.name = column_text(stmt, 0);
  record.key_hash = column_text(stmt, 1);
  record.groups = groups_from_json(column_text(stmt, 2));
  record.created_at = from_millis(sqlite3_column_int64(stmt, 3));
  record.expires_at = column_optional_time(stmt, 4);
  record.last_used_at = column_optional_time(stmt, 5);
  record.revoked = sqlite3_column_type(stmt, 6) != SQLITE_NULL;
  return record;
}

constexpr const char* kSshKeyColumns =
    "id, subject, groups, public_key, fingerprint, created_at, created_by, expires_at, "
    "removed_at, removed_by";

SshKeyRecord read_ssh_key(sqlite3_stmt* stmt) {
  SshKeyRecord record;
  record.id = column_text(stmt, 0);
  record.subject = column_text(stmt, 1);
  record.groups = groups_from_json(column_text(stmt, 2));
  record.public_key = column_text(stmt, 3);
  record.fingerprint = column_text(stmt, 4);
  record.created_at = from_millis(sqlite3_column_int64(stmt, 5));
  record.created_by = column_text(stmt, 6);
  record.expires_at = column_optional_time(stmt, 7);
  record.removed_at = column_optional_time(stmt, 8);
  record.removed_by = column_text(stmt, 9);
  return record;
}

constexpr const char* kReviewColumns =
    "id, kind, status, requester, requester_groups, session, connection, command, "
    "command_sha256, rule, reviewer_groups, reviewer_subjects, min_approvals, reason, "
    "duration_ms, created_at, expires_at, decided_at, decided_by, comment, grant_expires_at, "
    "executed_at, protocol";

void bind_optional_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  if (text.empty())
    sqlite3_bind_null(stmt, index);
  else
    bind_text(stmt, index, text);
}

// Binds every column of kReviewColumns, in order, from parameter 1.
void bind_review(sqlite3_stmt* stmt, const ReviewRecord& r) {
  bind_text(stmt, 1, r.id);
  bind_text(stmt, 2, to_string(r.kind));
  bind_text(stmt, 3, to_string(r.status));
  bind_text(stmt, 4, r.requester);
  bind_text(stmt, 5, groups_to_json(r.requester_groups));
  bind_optional_text(stmt, 6, r.session);
  bind_text(stmt, 7, r.connection);
  bind_optional_text(stmt, 8, r.command);
  bind_optional_text(stmt, 9, r.command_sha256);
  bind_text(stmt, 10, r.rule);
  bind_text(stmt, 11, groups_to_json(r.reviewer_groups));
  bind_text(stmt, 12, groups_to_json(r.reviewer_subjects));
  sqlite3_bind_int64(stmt, 13, static_cast<int64_t>(r.min_approvals));
  bind_optional_text(stmt, 14, r.reason);
  sqlite3_bind_int64(stmt, 15, r.duration.count());
  sqlite3_bind_int64(stmt, 16, to_millis(r.created_at));
  sqlite3_bind_int64(stmt, 17, to_millis(r.expires_at));
  bind_optional_time(stmt, 18, r.decided_at);
  bind_optional_text(stmt, 19, r.decided_by);
  bind_optional_text(stmt, 20, r.comment);
  bind_optional_time(stmt, 21, r.grant_expires_at);
  bind_optional_time(stmt, 22, r.executed_at);
  bind_optional_text(stmt, 23, r.protocol);
}

ReviewRecord read_review(sqlite3_stmt* stmt) {
  ReviewRecord r;
  r.id = column_text(stmt, 0);
  r.kind = parse_review_kind(column_text(stmt, 1)).value_or(ReviewKind::statement);
  // An unknown status (a newer gateway's) reads as expired: never as something that grants.
  r.status = parse_review_status(column_text(stmt, 2)).value_or(ReviewStatus::expired);
  r.requester = column_text(stmt, 3);
  r.requester_groups = groups_from_json(column_text(stmt, 4));
  r.session = column_text(stmt, 5);
  r.connection = column_text(stmt, 6);
  r.command = column_text(stmt, 7);
  r.command_sha256 = column_text(stmt, 8);
  r.rule = column_text(stmt, 9);
  r.reviewer_groups = groups_from_json(column_text(stmt, 10));
  r.reviewer_subjects = groups_from_json(column_text(stmt, 11));
  r.min_approvals = static_cast<std::size_t>(sqlite3_column_int64(stmt, 12));
  r.reason = column_text(stmt, 13);
  r.duration = std::chrono::milliseconds(sqlite3_column_int64(stmt, 14));
  r.created_at = from_millis(sqlite3_column_int64(stmt, 15));
  r.expires_at = from_millis(sqlite3_column_int64(stmt, 16));
  r.decided_at = column_optional_time(stmt, 17);
  r.decided_by = column_text(stmt, 18);
  r.comment = column_text(stmt, 19);
  r.grant_expires_at = column_optional_time(stmt, 20);
  r.executed_at = column_optional_time(stmt, 21);
  r.protocol = column_text(stmt, 22);
  return r;
}

class SqliteStore final : public StateStore {
 public:
  SqliteStore(SqliteDatabase db, std::filesystem::path file)
      : db_(std::move(db)), file_(std::move(file)) {}

  Result<void> prepare_statements() {
    const std::string columns = kApiKeyColumns;
    const std::pair<SqliteStatement*, std::string> statements[] = {
        {&insert_api_key_,
         "INSERT INTO api_keys (name, key_hash, groups, created_at, expires_at) "
         "VALUES (?, ?, ?, ?, ?)"},
        {&find_api_key_, "SELECT " + columns + " FROM api_keys WHERE key_hash = ?"},
        {&list_api_keys_, "SELECT " + columns + " FROM api_keys ORDER BY name"},
        {&revoke_api_key_,
         "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE name = ?"},
        {&touch_api_key_,
         "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE name = ?"},
        {&insert_ssh_key_,
         fmt::format("INSERT INTO ssh_keys ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                     kSshKeyColumns)},
        {&find_ssh_key_, fmt::format("SELECT {} FROM ssh_keys WHERE fingerprint = ? AND "
                                     "removed_at IS NULL",
                                     kSshKeyColumns)},
        {&list_ssh_keys_,
         fmt::format("SELECT {} FROM ssh_keys WHERE (COALESCE(?1, '') = '' OR subject = ?1) "
                     "ORDER BY created_at, id",
                     kSshKeyColumns)},
        {&remove_ssh_key_,
         "UPDATE ssh_keys SET removed_at = ?, removed_by = ? WHERE id = ? AND removed_at IS NULL"},
        {&insert_review_, fmt::format("INSERT INTO reviews ({}) VALUES ({})", kReviewColumns,
                                      "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                      "?, ?, ?, ?")},
        // Parameters numbered as bind_review binds them.
        {&update_review_,
         "UPDATE reviews SET kind = ?2, status = ?3, requester = ?4, requester_groups = ?5, "
         "session = ?6, connection = ?7, command = ?8, command_sha256 = ?9, rule = ?10, "
         "reviewer_groups = ?11, reviewer_subjects = ?12, min_approvals = ?13, reason = ?14, "
         "duration_ms = ?15, created_at = ?16, expires_at = ?17, decided_at = ?18, decided_by = "
         "?19, comment = ?20, grant_expires_at = ?21, executed_at = ?22, protocol = ?23 WHERE id = "
         "?1"},
        {&find_review_, fmt::format("SELECT {} FROM reviews WHERE id = ?", kReviewColumns)},
        {&list_reviews_, fmt::format("SELECT {} FROM reviews WHERE (?1 IS NULL OR status = ?1) "
                                     "ORDER BY created_at DESC, id LIMIT ?2",
                                     kReviewColumns)},
        {&approved_reviews_,
         fmt::format("SELECT {} FROM reviews WHERE requester = ? AND connection = ? AND "
                     "status = 'approved' AND kind = ? AND grant_expires_at > ? "
                     "ORDER BY decided_at DESC",
                     kReviewColumns)},
        {&overdue_reviews_,
         fmt::format("SELECT {} FROM reviews WHERE status = 'pending' AND expires_at <= ? "
                     "ORDER BY expires_at",
                     kReviewColumns)},
        {&find_votes_,
         "SELECT reviewer, approve, comment, time FROM review_votes WHERE review_id = ? "
         "ORDER BY time, rowid"},
        {&delete_votes_, "DELETE FROM review_votes WHERE review_id = ?"},
        {&insert_vote_,
         "INSERT INTO review_votes (review_id, reviewer, approve, comment, time) "
         "VALUES (?, ?, ?, ?, ?)"},
        {&upsert_revocation_,
         "INSERT INTO revocations (subject, revoked_at, revoked_by, reason) VALUES (?, ?, ?, ?) "
         "ON CONFLICT (subject) DO UPDATE SET "
         "revoked_by = CASE WHEN excluded.revoked_at >= revoked_at THEN excluded.revoked_by "
         "ELSE revoked_by END, "
         "reason = CASE WHEN excluded.revoked_at >= revoked_at THEN excluded.reason ELSE reason "
         "END, "
         "revoked_at = MAX(revoked_at, excluded.revoked_at)"},
        {&find_revocation_,
         "SELECT subject, revoked_at, revoked_by, reason FROM revocations WHERE subject = ?"},
    };
    for (const auto& [target, sql] : statements) {
      auto stmt = sqlite_prepare(db_.get(), sql);
      if (!stmt) return failure("cannot prepare statement");
      *target = std::move(*stmt);
    }
    return {};
  }

  Result<void> insert_api_key(const ApiKeyRecord& record) override {
    std::lock_guard lock(mutex_);
    StatementUse use(insert_api_key_.get());
    bind_text(use.get(), 1, record.name);
    bind_text(use.get(), 2, record.key_hash);
    bind_text(use.get(), 3, groups_to_json(record.groups));
    sqlite3_bind_int64(use.get(), 4, to_millis(record.created_at));
    bind_optional_time(use.get(), 5, record.expires_at);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_DONE) return {};
    if (sqlite3_extended_errcode(db_.get()) == SQLITE_CONSTRAINT_PRIMARYKEY)
      return make_error(fmt::format("an API key named \"{}\" already exists", record.name));
    return failure("cannot store the API key");
  }

  Result<std::optional<ApiKeyRecord>> find_api_key_by_hash(std::string_view key_hash) override {
    std::lock_guard lock(mutex_);
    StatementUse use(find_api_key_.get());
    bind_text(use.get(), 1, key_hash);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_ROW) return std::optional<ApiKeyRecord>(read_api_key(use.get()));
    if (rc == SQLITE_DONE) return std::optional<ApiKeyRecord>();
    return failure("cannot look up the API key");
  }

  Result<std::vector<ApiKeyRecord>> list_api_keys() override {
    std::lock_guard lock(mutex_);
    StatementUse use(list_api_keys_.get());
    std::vector<ApiKeyRecord> records;
    int rc;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) records.push_back(read_api_key(use.get()));
    if (rc != SQLITE_DONE) return failure("cannot list API keys");
    return records;
  }

  Result<bool> revoke_api_key(std::string_view name) override {
    std::lock_guard lock(mutex_);
    StatementUse use(revoke_api_key_.get());
    sqlite3_bind_int64(use.get(), 1, to_millis(std::chrono::system_clock::now()));
    bind_text(use.get(), 2, name);
    if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot revoke the API key");
    return sqlite3_changes(db_.get()) > 0;
  }

  Result<void> touch_api_key(std::string_view name, TimePoint used_at) override {
    std::lock_guard lock(mutex_);
    StatementUse use(touch_api_key_.get());
    sqlite3_bind_int64(use.get(), 1, to_millis(used_at));
    bind_text(use.get(), 2, name);
    if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot record the API key's use");
    return {};
  }

  Result<void> insert_ssh_key(const SshKeyRecord& record) override {
    std::lock_guard lock(mutex_);
    StatementUse use(insert_ssh_key_.get());
    bind_text(use.get(), 1, record.id);
    bind_text(use.get(), 2, record.subject);
    bind_text(use.get(), 3, groups_to_json(record.groups));
    bind_text(use.get(), 4, record.public_key);
    bind_text(use.get(), 5, record.fingerprint);
    sqlite3_bind_int64(use.get(), 6, to_millis(record.created_at));
    bind_text(use.get(), 7, record.created_by);
    bind_optional_time(use.get(), 8, record.expires_at);
    if (sqlite3_step(use.get()) == SQLITE_DONE) return {};
    const int code = sqlite3_extended_errcode(db_.get());
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
      return make_error("conflict",
                        fmt::format("the SSH key {} is registered already", record.fingerprint));
    return failure("cannot store the SSH key");
  }

  Result<std::optional<SshKeyRecord>> find_ssh_key(std::string_view fingerprint) override {
    std::lock_guard lock(mutex_);
    StatementUse use(find_ssh_key_.get());
    bind_text(use.get(), 1, fingerprint);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_ROW) return std::optional<SshKeyRecord>(read_ssh_key(use.get()));
    if (rc == SQLITE_DONE) return std::optional<SshKeyRecord>();
    return failure("cannot look up the SSH key");
  }

  Result<std::vector<SshKeyRecord>> list_ssh_keys(std::string_view subject) override {
    std::lock_guard lock(mutex_);
    StatementUse use(list_ssh_keys_.get());
    bind_text(use.get(), 1, subject);
    std::vector<SshKeyRecord> records;
    int rc;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) records.push_back(read_ssh_key(use.get()));
    if (rc != SQLITE_DONE) return failure("cannot list SSH keys");
    return records;
  }

  Result<bool> remove_ssh_key(std::string_view id, TimePoint removed_at,
                              std::string_view removed_by) override {
    std::lock_guard lock(mutex_);
    StatementUse use(remove_ssh_key_.get());
    sqlite3_bind_int64(use.get(), 1, to_millis(removed_at));
    bind_text(use.get(), 2, removed_by);
    bind_text(use.get(), 3, id);
    if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot remove the SSH key");
    return sqlite3_changes(db_.get()) > 0;
  }

  Result<void> insert_review(const ReviewRecord& review) override {
    std::lock_guard lock(mutex_);
    return in_transaction([&]() -> Result<void> {
      StatementUse use(insert_review_.get());
      bind_review(use.get(), review);
      if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot store the review");
      return write_votes(review);
    });
  }

  Result<std::optional<ReviewRecord>> find_review(std::string_view id) override {
    std::lock_guard lock(mutex_);
    return read_one(id);
  }

  Result<std::vector<ReviewRecord>> list_reviews(std::optional<ReviewStatus> status,
                                                 std::size_t limit) override {
    std::lock_guard lock(mutex_);
    StatementUse use(list_reviews_.get());
    if (status) bind_text(use.get(), 1, to_string(*status));
    sqlite3_bind_int64(use.get(), 2, static_cast<int64_t>(limit));
    return read_many(use.get(), "cannot list reviews");
  }

  Result<ReviewRecord> update_review(std::string_view id, const ReviewChange& change) override {
    std::lock_guard lock(mutex_);
    std::optional<ReviewRecord> updated;
    auto done = in_transaction([&]() -> Result<void> {
      auto found = read_one(id);
      if (!found) return found.error();
      if (!*found) return make_error("not_found", fmt::format("no review \"{}\"", id));
      if (auto r = change(**found); !r) return r;
      StatementUse use(update_review_.get());
      bind_review(use.get(), **found);
      if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot update the review");
      if (auto r = write_votes(**found); !r) return r;
      updated = std::move(*found);
      return {};
    });
    if (!done) return done.error();
    return std::move(*updated);
  }

  Result<std::vector<ReviewRecord>> approved_reviews(ReviewKind kind, std::string_view requester,
                                                     std::string_view connection,
                                                     TimePoint now) override {
    std::lock_guard lock(mutex_);
    StatementUse use(approved_reviews_.get());
    bind_text(use.get(), 1, requester);
    bind_text(use.get(), 2, connection);
    bind_text(use.get(), 3, to_string(kind));
    sqlite3_bind_int64(use.get(), 4, to_millis(now));
    return read_many(use.get(), "cannot look up approved reviews");
  }

  Result<std::vector<ReviewRecord>> overdue_reviews(TimePoint now) override {
    std::lock_guard lock(mutex_);
    StatementUse use(overdue_reviews_.get());
    sqlite3_bind_int64(use.get(), 1, to_millis(now));
    return read_many(use.get(), "cannot look up overdue reviews");
  }

  Result<void> upsert_revocation(const RevocationRecord& revocation) override {
    std::lock_guard lock(mutex_);
    StatementUse use(upsert_revocation_.get());
    bind_text(use.get(), 1, revocation.subject);
    sqlite3_bind_int64(use.get(), 2, to_millis(revocation.revoked_at));
    bind_text(use.get(), 3, revocation.revoked_by);
    bind_optional_text(use.get(), 4, revocation.reason);
    if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot store the revocation");
    return {};
  }

  Result<std::optional<RevocationRecord>> find_revocation(std::string_view subject) override {
    std::lock_guard lock(mutex_);
    StatementUse use(find_revocation_.get());
    bind_text(use.get(), 1, subject);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_DONE) return std::optional<RevocationRecord>();
    if (rc != SQLITE_ROW) return failure("cannot look up revocations");
    RevocationRecord record;
    record.subject = column_text(use.get(), 0);
    record.revoked_at = from_millis(sqlite3_column_int64(use.get(), 1));
    record.revoked_by = column_text(use.get(), 2);
    record.reason = column_text(use.get(), 3);
    return std::optional<RevocationRecord>(std::move(record));
  }

 private:
  // Runs `body` in a write transaction (taken at once, so that a read in it sees what it will
  // overwrite); rolled back when `body` fails. The caller holds mutex_.
  Result<void> in_transaction(const std::function<Result<void>()>& body) {
    if (auto r = sqlite_exec(db_.get(), "BEGIN IMMEDIATE"); !r)
      return failure("cannot begin a transaction");
    auto result = body();
    if (!result) {
      (void)sqlite_exec(db_.get(), "ROLLBACK");
      return result;
    }
    if (auto r = sqlite_exec(db_.get(), "COMMIT"); !r) {
      (void)sqlite_exec(db_.get(), "ROLLBACK");
      return failure("cannot commit");
    }
    return {};
  }

  // The caller holds mutex_.
  Result<std::optional<ReviewRecord>> read_one(std::string_view id) {
    std::optional<ReviewRecord> review;
    {
      StatementUse use(find_review_.get());
      bind_text(use.get(), 1, id);
      const int rc = sqlite3_step(use.get());
      if (rc == SQLITE_DONE) return review;
      if (rc != SQLITE_ROW) return failure("cannot read the review");
      review = read_review(use.get());
    }
    if (auto r = read_votes(*review); !r) return r.error();
    return review;
  }

  Result<std::vector<ReviewRecord>> read_many(sqlite3_stmt* stmt, std::string_view what) {
    std::vector<ReviewRecord> reviews;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) reviews.push_back(read_review(stmt));
    if (rc != SQLITE_DONE) return failure(what);
    for (auto& review : reviews)
      if (auto r = read_votes(review); !r) return r.error();
    return reviews;
  }

  Result<void> read_votes(ReviewRecord& review) {
    StatementUse use(find_votes_.get());
    bind_text(use.get(), 1, review.id);
    int rc;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
      ReviewVote vote;
      vote.reviewer = column_text(use.get(), 0);
      vote.approve = sqlite3_column_int(use.get(), 1) != 0;
      vote.comment = column_text(use.get(), 2);
      vote.time = from_millis(sqlite3_column_int64(use.get(), 3));
      review.votes.push_back(std::move(vote));
    }
    if (rc != SQLITE_DONE) return failure("cannot read the review's votes");
    return {};
  }

  Result<void> write_votes(const ReviewRecord& review) {
    {
      StatementUse use(delete_votes_.get());
      bind_text(use.get(), 1, review.id);
      if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot write the votes");
    }
    for (const auto& vote : review.votes) {
      StatementUse use(insert_vote_.get());
      bind_text(use.get(), 1, review.id);
      bind_text(use.get(), 2, vote.reviewer);
      sqlite3_bind_int(use.get(), 3, vote.approve ? 1 : 0);
      bind_optional_text(use.get(), 4, vote.comment);
      sqlite3_bind_int64(use.get(), 5, to_millis(vote.time));
      if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot write the votes");
    }
    return {};
  }

  Error failure(std::string_view what) const {
    return make_error(
        fmt::format("state store {}: {}: {}", file_.string(), what, sqlite3_errmsg(db_.get())));
  }

  std::mutex mutex_;
  SqliteDatabase db_;
  std::filesystem::path file_;
  SqliteStatement insert_api_key_;
  SqliteStatement find_api_key_;
  SqliteStatement list_api_keys_;
  SqliteStatement revoke_api_key_;
  SqliteStatement touch_api_key_;
  SqliteStatement insert_ssh_key_;
  SqliteStatement find_ssh_key_;
  SqliteStatement list_ssh_keys_;
  SqliteStatement remove_ssh_key_;
  SqliteStatement insert_review_;
  SqliteStatement update_review_;
  SqliteStatement find_review_;
  SqliteStatement list_reviews_;
  SqliteStatement approved_reviews_;
  SqliteStatement overdue_reviews_;
  SqliteStatement find_votes_;
  SqliteStatement delete_votes_;
  SqliteStatement insert_vote_;
  SqliteStatement upsert_revocation_;
  SqliteStatement find_revocation_;
};

}  // namespace

Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::filesystem::path& file) {
  auto db = open_sqlite_database(file, SqliteOpenOptions{.busy_timeout_ms = kBusyTimeoutMs});
  if (!db) return db.error();
  auto store = std::make_unique<SqliteStore>(std::move(*db), file);
  if (auto r = store->prepare_statements(); !r) return r.error();
  return std::unique_ptr<StateStore>(std::move(store));
}

}  // namespace portcullis::store
