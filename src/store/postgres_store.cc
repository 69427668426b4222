// StateStore on PostgreSQL through libpq: parameterised statements on one connection behind a
// mutex, row locks for read-modify-write, and a connection that mends itself after an outage.
#include "store/postgres_store.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <functional>
#include <limits>
#include <mutex>
#include <system_error>
#include <utility>

#include "store/postgres_migrations.h"
#include "store/postgres_support.h"
#include "store/record_encoding.h"

namespace portcullis::store {
namespace {

// SQLSTATE of a unique or primary key violation.
constexpr std::string_view kUniqueViolation = "23505";
// The primary key of api_keys: a second key of that name (its hash clashing is another error).
constexpr std::string_view kApiKeyNameConstraint = "api_keys_pkey";

PgParam text_param(std::string_view text) {
  return std::string(text);
}

// An empty text is kept as NULL, as the SQLite store keeps it.
PgParam optional_text_param(std::string_view text) {
  if (text.empty()) return std::nullopt;
  return std::string(text);
}

PgParam time_param(TimePoint t) {
  return std::to_string(to_millis(t));
}

PgParam optional_time_param(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return time_param(*t);
}

std::optional<TimePoint> column_optional_time(const PGresult* result, int row, int column) {
  if (auto ms = pg_optional_int64(result, row, column)) return from_millis(*ms);
  return std::nullopt;
}

TimePoint column_time(const PGresult* result, int row, int column) {
  return from_millis(pg_int64(result, row, column));
}

constexpr const char* kApiKeyColumns =
    "name, key_hash, groups, created_at, expires_at, last_used_at, revoked_at";

ApiKeyRecord read_api_key(const PGresult* result, int row) {
  ApiKeyRecord record;
  record.name = pg_text(result, row, 0);
  record.key_hash = pg_text(result, row, 1);
  record.groups = groups_from_json(pg_text(result, row, 2));
  record.created_at = column_time(result, row, 3);
  record.expires_at = column_optional_time(result, row, 4);
  record.last_used_at = column_optional_time(result, row, 5);
  record.revoked = !pg_is_null(result, row, 6);
  return record;
}

constexpr const char* kSshKeyColumns =
    "id, subject, groups, public_key, fingerprint, created_at, created_by, expires_at, "
    "removed_at, removed_by";

SshKeyRecord read_ssh_key(const PGresult* result, int row) {
  SshKeyRecord record;
  record.id = pg_text(result, row, 0);
  record.subject = pg_text(result, row, 1);
  record.groups = groups_from_json(pg_text(result, row, 2));
  record.public_key = pg_text(result, row, 3);
  record.fingerprint = pg_text(result, row, 4);
  record.created_at = column_time(result, row, 5);
  record.created_by = pg_text(result, row, 6);
  record.expires_at = column_optional_time(result, row, 7);
  record.removed_at = column_optional_time(result, row, 8);
  record.removed_by = pg_text(result, row, 9);
  return record;
}

constexpr const char* kReviewColumns =
    "id, kind, status, requester, requester_groups, session, connection, command, "
    "command_sha256, rule, reviewer_groups, reviewer_subjects, min_approvals, reason, "
    "duration_ms, created_at, expires_at, decided_at, decided_by, comment, grant_expires_at, "
    "executed_at, protocol";

// A review's columns and then its votes, in the order cast, as one JSON array of
// [reviewer, approve, comment, time]: one round trip for a listing instead of one per review.
const std::string kReviewSelect = fmt::format(
    "SELECT {}, (SELECT COALESCE(jsonb_agg(jsonb_build_array(v.reviewer, v.approve, v.comment, "
    "v.\"time\") ORDER BY v.\"time\", v.seq), '[]'::jsonb) FROM review_votes v "
    "WHERE v.review_id = reviews.id) FROM reviews",
    kReviewColumns);
constexpr int kVotesColumn = 23;

// Every column of kReviewColumns, in order, as $1, $2, ...
std::vector<PgParam> review_params(const ReviewRecord& r) {
  return {
      text_param(r.id),
      text_param(to_string(r.kind)),
      text_param(to_string(r.status)),
      text_param(r.requester),
      groups_to_json(r.requester_groups),
      optional_text_param(r.session),
      text_param(r.connection),
      optional_text_param(r.command),
      optional_text_param(r.command_sha256),
      text_param(r.rule),
      groups_to_json(r.reviewer_groups),
      groups_to_json(r.reviewer_subjects),
      std::to_string(static_cast<int64_t>(r.min_approvals)),
      optional_text_param(r.reason),
      std::to_string(r.duration.count()),
      time_param(r.created_at),
      time_param(r.expires_at),
      optional_time_param(r.decided_at),
      optional_text_param(r.decided_by),
      optional_text_param(r.comment),
      optional_time_param(r.grant_expires_at),
      optional_time_param(r.executed_at),
      optional_text_param(r.protocol),
  };
}

std::vector<ReviewVote> votes_from_json(std::string_view text) {
  std::vector<ReviewVote> votes;
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  if (ec || !value.is_array()) return votes;
  for (const auto& item : value.get_array()) {
    const auto* fields = item.if_array();
    if (fields == nullptr || fields->size() != 4) continue;
    ReviewVote vote;
    if (const auto* reviewer = (*fields)[0].if_string()) vote.reviewer = *reviewer;
    if (const auto* approve = (*fields)[1].if_bool()) vote.approve = *approve;
    if (const auto* comment = (*fields)[2].if_string()) vote.comment = *comment;
    if (const auto* time = (*fields)[3].if_int64()) vote.time = from_millis(*time);
    votes.push_back(std::move(vote));
  }
  return votes;
}

ReviewRecord read_review(const PGresult* result, int row) {
  ReviewRecord r;
  r.id = pg_text(result, row, 0);
  r.kind = parse_review_kind(pg_text(result, row, 1)).value_or(ReviewKind::statement);
  // An unknown status (a newer gateway's) reads as expired: never as something that grants.
  r.status = parse_review_status(pg_text(result, row, 2)).value_or(ReviewStatus::expired);
  r.requester = pg_text(result, row, 3);
  r.requester_groups = groups_from_json(pg_text(result, row, 4));
  r.session = pg_text(result, row, 5);
  r.connection = pg_text(result, row, 6);
  r.command = pg_text(result, row, 7);
  r.command_sha256 = pg_text(result, row, 8);
  r.rule = pg_text(result, row, 9);
  r.reviewer_groups = groups_from_json(pg_text(result, row, 10));
  r.reviewer_subjects = groups_from_json(pg_text(result, row, 11));
  r.min_approvals = static_cast<std::size_t>(pg_int64(result, row, 12));
  r.reason = pg_text(result, row, 13);
  r.duration = std::chrono::milliseconds(pg_int64(result, row, 14));
  r.created_at = column_time(result, row, 15);
  r.expires_at = column_time(result, row, 16);
  r.decided_at = column_optional_time(result, row, 17);
  r.decided_by = pg_text(result, row, 18);
  r.comment = pg_text(result, row, 19);
  r.grant_expires_at = column_optional_time(result, row, 20);
  r.executed_at = column_optional_time(result, row, 21);
  r.protocol = pg_text(result, row, 22);
  r.votes = votes_from_json(pg_text(result, row, kVotesColumn));
  return r;
}

std::vector<ReviewRecord> read_reviews(const PGresult* result) {
  std::vector<ReviewRecord> reviews;
  for (int row = 0; row < PQntuples(result); ++row) reviews.push_back(read_review(result, row));
  return reviews;
}

// What a call does to the database, which decides whether it may run again after its
// connection broke.
enum class Effect {
  read,   // runs again on a new connection
  write,  // runs again only if it never sent the statement that would commit it
};

// Whether sending a statement can make a write take effect: an autocommit write or COMMIT.
enum class Commits { no, yes };

class PostgresStore final : public StateStore {
 public:
  // libpq keeps the connection's parameters, password included, for reconnecting.
  PostgresStore(PgConnection conn, std::string_view url)
      : conn_(std::move(conn)), shown_url_(redact_url_password(url)) {
    PQsetNoticeReceiver(conn_.get(), &PostgresStore::on_notice, this);
  }

  Result<void> insert_api_key(const ApiKeyRecord& record) override {
    return call<void>(Effect::write, [&]() -> Result<void> {
      auto e =
          run("INSERT INTO api_keys (name, key_hash, groups, created_at, expires_at) "
              "VALUES ($1, $2, $3, $4, $5)",
              {record.name, record.key_hash, groups_to_json(record.groups),
               time_param(record.created_at), optional_time_param(record.expires_at)},
              Commits::yes);
      if (e.ok()) return {};
      if (e.sqlstate() == kUniqueViolation && e.constraint() == kApiKeyNameConstraint)
        return make_error(fmt::format("an API key named \"{}\" already exists", record.name));
      return failure("cannot store the API key", e);
    });
  }

  Result<std::optional<ApiKeyRecord>> find_api_key_by_hash(std::string_view key_hash) override {
    return call<std::optional<ApiKeyRecord>>(
        Effect::read, [&]() -> Result<std::optional<ApiKeyRecord>> {
          auto e = run(fmt::format("SELECT {} FROM api_keys WHERE key_hash = $1", kApiKeyColumns),
                       {text_param(key_hash)});
          if (!e.ok()) return failure("cannot look up the API key", e);
          if (PQntuples(e.result.get()) == 0) return std::optional<ApiKeyRecord>();
          return std::optional<ApiKeyRecord>(read_api_key(e.result.get(), 0));
        });
  }

  Result<std::vector<ApiKeyRecord>> list_api_keys() override {
    return call<std::vector<ApiKeyRecord>>(
        Effect::read, [&]() -> Result<std::vector<ApiKeyRecord>> {
          // Byte order, as SQLite sorts, whatever the database's collation.
          auto e = run(
              fmt::format("SELECT {} FROM api_keys ORDER BY name COLLATE \"C\"", kApiKeyColumns));
          if (!e.ok()) return failure("cannot list API keys", e);
          std::vector<ApiKeyRecord> records;
          for (int row = 0; row < PQntuples(e.result.get()); ++row)
            records.push_back(read_api_key(e.result.get(), row));
          return records;
        });
  }

  Result<bool> revoke_api_key(std::string_view name) override {
    const auto now = std::chrono::system_clock::now();
    return call<bool>(Effect::write, [&]() -> Result<bool> {
      auto e = run("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE name = $2",
                   {time_param(now), text_param(name)}, Commits::yes);
      if (!e.ok()) return failure("cannot revoke the API key", e);
      return pg_affected_rows(e.result.get()) > 0;
    });
  }

  Result<void> touch_api_key(std::string_view name, TimePoint used_at) override {
    return call<void>(Effect::write, [&]() -> Result<void> {
      auto e =
          run("UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 0), $1::bigint) "
              "WHERE name = $2",
              {time_param(used_at), text_param(name)}, Commits::yes);
      if (!e.ok()) return failure("cannot record the API key's use", e);
      return {};
    });
  }

  Result<void> insert_ssh_key(const SshKeyRecord& record) override {
    return call<void>(Effect::write, [&]() -> Result<void> {
      auto e = run(fmt::format("INSERT INTO ssh_keys ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                               "$8, NULL, NULL)",
                               kSshKeyColumns),
                   {record.id, record.subject, groups_to_json(record.groups), record.public_key,
                    record.fingerprint, time_param(record.created_at), record.created_by,
                    optional_time_param(record.expires_at)},
                   Commits::yes);
      if (e.ok()) return {};
      if (e.sqlstate() == kUniqueViolation)
        return make_error("conflict",
                          fmt::format("the SSH key {} is registered already", record.fingerprint));
      return failure("cannot store the SSH key", e);
    });
  }

  Result<std::optional<SshKeyRecord>> find_ssh_key(std::string_view fingerprint) override {
    return call<std::optional<SshKeyRecord>>(
        Effect::read, [&]() -> Result<std::optional<SshKeyRecord>> {
          auto e = run(fmt::format("SELECT {} FROM ssh_keys WHERE fingerprint = $1 AND "
                                   "removed_at IS NULL",
                                   kSshKeyColumns),
                       {text_param(fingerprint)});
          if (!e.ok()) return failure("cannot look up the SSH key", e);
          if (PQntuples(e.result.get()) == 0) return std::optional<SshKeyRecord>();
          return std::optional<SshKeyRecord>(read_ssh_key(e.result.get(), 0));
        });
  }

  Result<std::vector<SshKeyRecord>> list_ssh_keys(std::string_view subject) override {
    return call<std::vector<SshKeyRecord>>(
        Effect::read, [&]() -> Result<std::vector<SshKeyRecord>> {
          auto e = run(fmt::format("SELECT {} FROM ssh_keys WHERE ($1::text = '' OR subject = $1) "
                                   "ORDER BY created_at, id COLLATE \"C\"",
                                   kSshKeyColumns),
                       {text_param(subject)});
          if (!e.ok()) return failure("cannot list SSH keys", e);
          std::vector<SshKeyRecord> records;
          for (int row = 0; row < PQntuples(e.result.get()); ++row)
            records.push_back(read_ssh_key(e.result.get(), row));
          return records;
        });
  }

  Result<bool> remove_ssh_key(std::string_view id, TimePoint removed_at,
                              std::string_view removed_by) override {
    return call<bool>(Effect::write, [&]() -> Result<bool> {
      auto e = run(
          "UPDATE ssh_keys SET removed_at = $1, removed_by = $2 WHERE id = $3 AND removed_at IS "
          "NULL",
          {time_param(removed_at), text_param(removed_by), text_param(id)}, Commits::yes);
      if (!e.ok()) return failure("cannot remove the SSH key", e);
      return pg_affected_rows(e.result.get()) > 0;
    });
  }

  Result<void> insert_review(const ReviewRecord& review) override {
    return call<void>(Effect::write, [&]() -> Result<void> {
      return in_transaction([&]() -> Result<void> {
        auto e = run(fmt::format("INSERT INTO reviews ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                                 "$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, "
                                 "$22, $23)",
                                 kReviewColumns),
                     review_params(review));
        if (!e.ok()) return failure("cannot store the review", e);
        return write_votes(review);
      });
    });
  }

  Result<std::optional<ReviewRecord>> find_review(std::string_view id) override {
    return call<std::optional<ReviewRecord>>(Effect::read, [&] { return read_one(id); });
  }

  Result<std::vector<ReviewRecord>> list_reviews(std::optional<ReviewStatus> status,
                                                 std::size_t limit) override {
    // No limit at all when it is beyond what a BIGINT holds (LIMIT NULL is LIMIT ALL).
    PgParam limit_param;
    if (limit <= static_cast<std::size_t>(std::numeric_limits<int64_t>::max()))
      limit_param = std::to_string(limit);
    PgParam status_param;
    if (status) status_param = std::string(to_string(*status));
    return call<std::vector<ReviewRecord>>(
        Effect::read, [&]() -> Result<std::vector<ReviewRecord>> {
          auto e = run(kReviewSelect +
                           " WHERE ($1::text IS NULL OR status = $1) "
                           "ORDER BY created_at DESC, id COLLATE \"C\" LIMIT $2::bigint",
                       {status_param, limit_param});
          if (!e.ok()) return failure("cannot list reviews", e);
          return read_reviews(e.result.get());
        });
  }

  Result<ReviewRecord> update_review(std::string_view id, const ReviewChange& change) override {
    return call<ReviewRecord>(Effect::write, [&]() -> Result<ReviewRecord> {
      std::optional<ReviewRecord> updated;
      auto done = in_transaction([&]() -> Result<void> {
        // The row lock makes another instance's update of this review wait until this
        // transaction ends; the votes are read after it is taken, by a statement of their own,
        // so that they include every vote committed before (READ COMMITTED: a new snapshot
        // per statement).
        auto locked = run("SELECT id FROM reviews WHERE id = $1 FOR UPDATE", {text_param(id)});
        if (!locked.ok()) return failure("cannot read the review", locked);
        if (PQntuples(locked.result.get()) == 0)
          return make_error("not_found", fmt::format("no review \"{}\"", id));
        auto found = read_one(id);
        if (!found) return found.error();
        if (!*found) return make_error("not_found", fmt::format("no review \"{}\"", id));
        if (auto r = change(**found); !r) return r;
        auto e = run(
            "UPDATE reviews SET kind = $2, status = $3, requester = $4, requester_groups = $5, "
            "session = $6, connection = $7, command = $8, command_sha256 = $9, rule = $10, "
            "reviewer_groups = $11, reviewer_subjects = $12, min_approvals = $13, reason = $14, "
            "duration_ms = $15, created_at = $16, expires_at = $17, decided_at = $18, "
            "decided_by = $19, comment = $20, grant_expires_at = $21, executed_at = $22, "
            "protocol = $23 WHERE id = $1",
            review_params(**found));
        if (!e.ok()) return failure("cannot update the review", e);
        if (auto r = write_votes(**found); !r) return r;
        updated = std::move(*found);
        return {};
      });
      if (!done) return done.error();
      return std::move(*updated);
    });
  }

  Result<std::vector<ReviewRecord>> approved_reviews(ReviewKind kind, std::string_view requester,
                                                     std::string_view connection,
                                                     TimePoint now) override {
    return call<std::vector<ReviewRecord>>(
        Effect::read, [&]() -> Result<std::vector<ReviewRecord>> {
          // NULLS LAST: where SQLite puts them in a descending order.
          auto e = run(kReviewSelect +
                           " WHERE requester = $1 AND connection = $2 AND status = 'approved' "
                           "AND kind = $3 AND grant_expires_at > $4 "
                           "ORDER BY decided_at DESC NULLS LAST",
                       {text_param(requester), text_param(connection), text_param(to_string(kind)),
                        time_param(now)});
          if (!e.ok()) return failure("cannot look up approved reviews", e);
          return read_reviews(e.result.get());
        });
  }

  Result<std::vector<ReviewRecord>> overdue_reviews(TimePoint now) override {
    return call<std::vector<ReviewRecord>>(
        Effect::read, [&]() -> Result<std::vector<ReviewRecord>> {
          auto e = run(
              kReviewSelect + " WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at",
              {time_param(now)});
          if (!e.ok()) return failure("cannot look up overdue reviews", e);
          return read_reviews(e.result.get());
        });
  }

  Result<void> upsert_revocation(const RevocationRecord& revocation) override {
    return call<void>(Effect::write, [&]() -> Result<void> {
      // Every expression of the SET list reads the row as it was before the update.
      auto e =
          run("INSERT INTO revocations AS r (subject, revoked_at, revoked_by, reason) "
              "VALUES ($1, $2, $3, $4) "
              "ON CONFLICT (subject) DO UPDATE SET "
              "revoked_by = CASE WHEN excluded.revoked_at >= r.revoked_at THEN excluded.revoked_by "
              "ELSE r.revoked_by END, "
              "reason = CASE WHEN excluded.revoked_at >= r.revoked_at THEN excluded.reason "
              "ELSE r.reason END, "
              "revoked_at = GREATEST(r.revoked_at, excluded.revoked_at)",
              {revocation.subject, time_param(revocation.revoked_at), revocation.revoked_by,
               optional_text_param(revocation.reason)},
              Commits::yes);
      if (!e.ok()) return failure("cannot store the revocation", e);
      return {};
    });
  }

  Result<std::optional<RevocationRecord>> find_revocation(std::string_view subject) override {
    return call<std::optional<RevocationRecord>>(
        Effect::read, [&]() -> Result<std::optional<RevocationRecord>> {
          auto e = run(
              "SELECT subject, revoked_at, revoked_by, reason FROM revocations WHERE subject = $1",
              {text_param(subject)});
          if (!e.ok()) return failure("cannot look up revocations", e);
          if (PQntuples(e.result.get()) == 0) return std::optional<RevocationRecord>();
          const PGresult* result = e.result.get();
          RevocationRecord record;
          record.subject = pg_text(result, 0, 0);
          record.revoked_at = column_time(result, 0, 1);
          record.revoked_by = pg_text(result, 0, 2);
          record.reason = pg_text(result, 0, 3);
          return std::optional<RevocationRecord>(std::move(record));
        });
  }

 private:
  // Runs `body` on the connection, holding mutex_. When the connection breaks during the call,
  // the call runs once more on a new connection if `effect` allows; otherwise, or if it breaks
  // again, the call fails with code "unavailable".
  template <class T>
  Result<T> call(Effect effect, const std::function<Result<T>()>& body) {
    std::lock_guard lock(mutex_);
    for (int attempt = 0;; ++attempt) {
      if (auto ready = ensure_connection(); !ready) return ready.error();
      commit_sent_ = false;
      auto result = body();
      if (result || PQstatus(conn_.get()) == CONNECTION_OK) return result;
      const bool may_retry = effect == Effect::read || !commit_sent_;
      if (attempt > 0 || !may_retry)
        return make_error(
            "unavailable",
            fmt::format("{} (the connection to the state store was lost)", result.error().message));
    }
  }

  // A connection that answers, reconnecting first when it is known to be broken. A connection
  // the server closed while idle (a restart, an idle timeout) is noticed here, before a
  // statement is sent on it. The caller holds mutex_.
  Result<void> ensure_connection() {
    if (PQstatus(conn_.get()) == CONNECTION_OK && !server_closing_) {
      // Reads and parses whatever the server sent while the connection was idle: an end of
      // stream marks the connection bad, a FATAL error (a shutdown, a terminated backend)
      // reaches on_notice, and no statement is sent into a connection already closing.
      if (PQconsumeInput(conn_.get()) == 1) {
        while (PGnotify* notify = PQnotifies(conn_.get())) PQfreemem(notify);
        if (PQstatus(conn_.get()) == CONNECTION_OK && !server_closing_) return {};
      }
    }
    PQreset(conn_.get());
    server_closing_ = false;
    if (PQstatus(conn_.get()) == CONNECTION_OK) return {};
    return make_error("unavailable", fmt::format("state store {}: cannot reconnect: {}", shown_url_,
                                                 pg_error_message(conn_.get(), PgExecution{})));
  }

  // Runs one statement. The caller holds mutex_.
  PgExecution run(std::string_view sql, const std::vector<PgParam>& params = {},
                  Commits commits = Commits::no) {
    auto execution = pg_exec(conn_.get(), sql, params);
    if (commits == Commits::yes && execution.sent) commit_sent_ = true;
    return execution;
  }

  // Runs `body` in a transaction, rolled back when `body` fails. The caller holds mutex_.
  Result<void> in_transaction(const std::function<Result<void>()>& body) {
    if (auto e = run("BEGIN"); !e.ok()) return failure("cannot begin a transaction", e);
    auto result = body();
    if (!result) {
      (void)run("ROLLBACK");
      return result;
    }
    if (auto e = run("COMMIT", {}, Commits::yes); !e.ok()) {
      (void)run("ROLLBACK");
      return failure("cannot commit", e);
    }
    return {};
  }

  // The caller holds mutex_.
  Result<std::optional<ReviewRecord>> read_one(std::string_view id) {
    auto e = run(kReviewSelect + " WHERE id = $1", {text_param(id)});
    if (!e.ok()) return failure("cannot read the review", e);
    if (PQntuples(e.result.get()) == 0) return std::optional<ReviewRecord>();
    return std::optional<ReviewRecord>(read_review(e.result.get(), 0));
  }

  // Replaces the review's votes by its record's, keeping their order. The caller holds mutex_,
  // in a transaction.
  Result<void> write_votes(const ReviewRecord& review) {
    if (auto e = run("DELETE FROM review_votes WHERE review_id = $1", {review.id}); !e.ok())
      return failure("cannot write the votes", e);
    for (const auto& vote : review.votes) {
      auto e =
          run("INSERT INTO review_votes (review_id, reviewer, approve, comment, \"time\") "
              "VALUES ($1, $2, $3, $4, $5)",
              {review.id, vote.reviewer, std::string(vote.approve ? "true" : "false"),
               optional_text_param(vote.comment), time_param(vote.time)});
      if (!e.ok()) return failure("cannot write the votes", e);
    }
    return {};
  }

  // libpq's receiver of notices, and of errors the server sent outside any statement: only
  // a FATAL or PANIC one matters, which the server sends just before it closes the connection.
  static void on_notice(void* store, const PGresult* notice) {
    const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity == nullptr) return;
    const std::string_view level(severity);
    if (level == "FATAL" || level == "PANIC")
      static_cast<PostgresStore*>(store)->server_closing_ = true;
  }

  Error failure(std::string_view what, const PgExecution& execution) const {
    return make_error(fmt::format("state store {}: {}: {}", shown_url_, what,
                                  pg_error_message(conn_.get(), execution)));
  }

  // One connection for every thread: the gateway's calls are short, and a session waiting
  // for its turn costs less than a pool's connections on a database shared by instances.
  std::mutex mutex_;
  PgConnection conn_;
  std::string shown_url_;  // the URL as messages show it, without its password
  // Whether the current attempt sent a statement that may have committed a write.
  bool commit_sent_ = false;
  // The server announced that it is closing the connection (set by on_notice).
  bool server_closing_ = false;
};

}  // namespace

Result<std::unique_ptr<StateStore>> open_postgres_store(std::string_view url) {
  auto conn = pg_connect(url);
  if (!conn) return conn.error();
  if (auto migrated = apply_postgres_migrations(conn->get()); !migrated)
    return make_error(
        fmt::format("state store {}: {}", redact_url_password(url), migrated.error().message));
  return std::unique_ptr<StateStore>(std::make_unique<PostgresStore>(std::move(*conn), url));
}

}  // namespace portcullis::store
