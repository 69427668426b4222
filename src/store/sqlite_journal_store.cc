// JournalStore on SQLite: the journal's tables in the state store's file, its own connection,
// every commit synced (synchronous=FULL), batches written in one immediate transaction.
#include "store/sqlite_journal_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <mutex>
#include <vector>

#include "store/sqlite_support.h"

namespace portcullis::store {
namespace {

// Records (and kept result rows) per multi-row INSERT. A statement of its own for each
// record cost the writer a cursor per index opened and closed, a VDBE halt and a reset per
// row: about a quarter of SQLite's instructions per record. 16 rows of 31 parameters stay
// far below SQLite's parameter limit (32766). The multi-row statements are INSERT OR
// ROLLBACK: a plain INSERT of several rows inside a transaction keeps a statement journal
// (the pages it changes, in a temporary file once past 64 KiB: 2-3 extra writes per record)
// so that a failing row can be undone alone; here any failure rolls the whole transaction
// back anyway.
constexpr std::size_t kRowsPerInsert = 16;
constexpr int kRecordParameters = static_cast<int>(kFieldCount) + 2;

// "(?, ?, ...), (?, ?, ...)": `rows` rows of `columns` parameters.
std::string values_rows(std::size_t rows, std::size_t columns) {
  std::string out;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (std::size_t c = 0; c < columns; ++c) out += c == 0 ? "?" : ", ?";
    out += ')';
  }
  return out;
}

// Resets an insert statement on scope exit. Unlike StatementUse it leaves the bindings: every
// parameter is bound again before each step, and clearing ~500 of them per statement is
// measurable. (The text bound with SQLITE_STATIC may be freed by then; SQLite does not read
// a binding before it is replaced.)
class InsertUse {
 public:
  explicit InsertUse(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~InsertUse() { sqlite3_reset(stmt_); }
  InsertUse(const InsertUse&) = delete;
  InsertUse& operator=(const InsertUse&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

// "seq", "id", ... "results_sha256", "prev_hash", "hash": the record's columns in order.
std::string record_columns() {
  std::string columns;
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    columns += fmt::format("\"{}\", ", field_info(static_cast<Field>(i)).name);
  }
  columns += "prev_hash, hash";
  return columns;
}

JournalRecord read_record(sqlite3_stmt* stmt) {
  JournalRecord record;
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const int column = static_cast<int>(i);
    if (sqlite3_column_type(stmt, column) != SQLITE_NULL)
      record.fields[i] = column_text(stmt, column);
  }
  record.prev_hash = column_text(stmt, static_cast<int>(kFieldCount));
  record.hash = column_text(stmt, static_cast<int>(kFieldCount) + 1);
  // One chain per file: the seq orders every record.
  record.cursor = sqlite3_column_int64(stmt, static_cast<int>(Field::seq));
  return record;
}

class SqliteJournalStore final : public JournalStore {
 public:
  SqliteJournalStore(SqliteDatabase db, std::filesystem::path file, std::string instance)
      : db_(std::move(db)), file_(std::move(file)), instance_(std::move(instance)) {}

  Result<void> prepare(bool read_only) {
    const std::string columns = record_columns();
    struct Wanted {
      SqliteStatement* target;
      std::string sql;
      bool writes;
    };
    const Wanted statements[] = {
        {&tail_, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", false},
        {&scan_,
         "SELECT " + columns +
             ", r.body FROM audit_events LEFT JOIN audit_results r USING (seq) "
             "WHERE seq >= ? ORDER BY seq",
         false},
        {&checkpoints_,
         "SELECT seq, hash, time, instance, key_id, signature FROM audit_checkpoints ORDER BY seq",
         false},
        {&result_rows_, "SELECT body FROM audit_results WHERE seq = ?", false},
        // Through the partial index audit_events_session_start.
        {&session_start_,
         "SELECT seq FROM audit_events WHERE session = ? AND event = 'connect' ORDER BY seq "
         "LIMIT 1",
         false},
        {&insert_record_,
         "INSERT INTO audit_events (" + columns + ") VALUES " + values_rows(1, kFieldCount + 2),
         true},
        {&insert_records_,
         "INSERT OR ROLLBACK INTO audit_events (" + columns + ") VALUES " +
             values_rows(kRowsPerInsert, kFieldCount + 2),
         true},
        {&insert_results_, "INSERT INTO audit_results (seq, body) VALUES (?, ?)", true},
        {&insert_many_results_,
         "INSERT OR ROLLBACK INTO audit_results (seq, body) VALUES " +
             values_rows(kRowsPerInsert, 2),
         true},
        {&insert_checkpoint_,
         "INSERT INTO audit_checkpoints (seq, hash, time, instance, key_id, signature) "
         "VALUES (?, ?, ?, ?, ?, ?)",
         true},
        {&probe_,
         "INSERT INTO audit_probe (id, time) VALUES (1, ?) "
         "ON CONFLICT (id) DO UPDATE SET time = excluded.time",
         true},
    };
    for (const auto& wanted : statements) {
      if (read_only && wanted.writes) continue;
      auto stmt = sqlite_prepare(db_.get(), wanted.sql);
      if (!stmt) return failure("cannot prepare statement");
      *wanted.target = std::move(*stmt);
    }
    return {};
  }

  Result<void> append(
      const std::function<Result<JournalBatch>(const JournalTail&)>& build) override {
    std::lock_guard lock(mutex_);
    if (!insert_record_) return make_error("the journal was opened read-only");
    // IMMEDIATE: take the write lock first, so that the tail read below is still the tail
    // when the batch is written, whoever else writes to the file.
    if (auto r = sqlite_exec(db_.get(), "BEGIN IMMEDIATE"); !r)
      return failure("cannot start a transaction");
    auto written = append_locked(build);
    if (!written) {
      (void)sqlite_exec(db_.get(), "ROLLBACK");
      return written;
    }
    if (auto r = sqlite_exec(db_.get(), "COMMIT"); !r) {
      auto error = failure("cannot commit");
      (void)sqlite_exec(db_.get(), "ROLLBACK");
      return error;
    }
    return {};
  }

  Result<void> probe() override {
    std::lock_guard lock(mutex_);
    if (!probe_) return make_error("the journal was opened read-only");
    StatementUse use(probe_.get());
    sqlite3_bind_int64(use.get(), 1,
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
    if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot write");
    return {};
  }

  Result<JournalTail> tail() override {
    std::lock_guard lock(mutex_);
    return tail_locked();
  }

  Result<void> scan(int64_t from_seq,
                    const std::function<bool(const JournalEntry&)>& visit) override {
    std::lock_guard lock(mutex_);
    StatementUse use(scan_.get());
    sqlite3_bind_int64(use.get(), 1, from_seq);
    int rc;
    JournalEntry entry;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
      entry.record = read_record(use.get());
      const int body = static_cast<int>(kFieldCount) + 2;
      if (sqlite3_column_type(use.get(), body) == SQLITE_NULL)
        entry.results.reset();
      else
        entry.results = column_text(use.get(), body);
      if (!visit(entry)) return {};
    }
    if (rc != SQLITE_DONE) return failure("cannot read the journal");
    return {};
  }

  Result<std::vector<std::string>> instances() override {
    return std::vector<std::string>{instance_};
  }

  Result<int64_t> last_cursor() override {
    auto tail = this->tail();
    if (!tail) return tail.error();
    return tail->seq;
  }

  Result<std::vector<JournalCheckpoint>> checkpoints() override {
    std::lock_guard lock(mutex_);
    StatementUse use(checkpoints_.get());
    std::vector<JournalCheckpoint> out;
    int rc;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
      JournalCheckpoint checkpoint;
      checkpoint.seq = sqlite3_column_int64(use.get(), 0);
      checkpoint.hash = column_text(use.get(), 1);
      checkpoint.time = column_text(use.get(), 2);
      checkpoint.instance = column_text(use.get(), 3);
      checkpoint.key_id = column_text(use.get(), 4);
      checkpoint.signature = column_text(use.get(), 5);
      out.push_back(std::move(checkpoint));
    }
    if (rc != SQLITE_DONE) return failure("cannot read the checkpoints");
    return out;
  }

  Result<std::vector<JournalRecord>> search(const JournalFilter& filter) override {
    // The cursor is the seq (read_record).
    int64_t after_seq = std::max(filter.after_seq, filter.after_cursor);
    if (!filter.session.empty()) {
      // Only connect records are indexed by session (migration 4): a session's records are
      // read from its first connect record on, by seq, `session = ?` skipping the others. No
      // record of a session precedes it: the session journals its connect before anything
      // else, a review of it is opened by one of its statements, and the journal's one queue
      // gives seqs in the order records were handed over. Not by the session's subject instead
      // (the (subject, seq) index): a review step of the session carries the reviewer's
      // subject. The records of a session without a connect record (a journal written by other
      // means, a connect record lost) are searched for through every record.
      auto start = session_start(filter.session);
      if (!start) return start.error();
      if (*start > 0) after_seq = std::max(after_seq, *start - 1);
    }
    std::string sql = "SELECT " + record_columns() + " FROM audit_events WHERE seq > ?";
    std::vector<std::string> texts;
    auto add_equal = [&](const char* column, const std::string& value) {
      if (value.empty()) return;
      sql += fmt::format(" AND {} = ?", column);
      texts.push_back(value);
    };
    // The cursor is the seq: a whole number, written into the text rather than bound as one.
    if (filter.before_cursor > 0) sql += fmt::format(" AND seq < {}", filter.before_cursor);
    add_equal("instance", filter.instance);
    add_equal("subject", filter.subject);
    add_equal("connection", filter.connection);
    add_equal("session", filter.session);
    add_equal("verdict", filter.verdict);
    add_equal("event", filter.event);
    // Not indexed (each index costs the indexer on every record): read through like
    // `connection` and `verdict`, within what the other filters leave.
    add_equal("credential", filter.credential);
    if (!filter.since.empty()) {
      sql += " AND time >= ?";
      texts.push_back(filter.since);
    }
    if (!filter.contains.empty()) {
      // instr, not LIKE: the text is matched as written, with no wildcard characters. In the
      // command or its bound parameters (the JSON list the record holds).
      sql += " AND (instr(command, ?) > 0 OR instr(params, ?) > 0)";
      texts.push_back(filter.contains);
      texts.push_back(filter.contains);
    }
    sql += filter.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq";
    if (filter.limit > 0) sql += fmt::format(" LIMIT {}", filter.limit);
    return query_records(sql, after_seq, texts);
  }

  Result<std::vector<JournalRecord>> results_for(const std::vector<std::string>& ids) override {
    std::vector<JournalRecord> out;
    // Bounded IN lists: SQLite limits the number of bound parameters per statement.
    constexpr std::size_t kChunk = 500;
    for (std::size_t start = 0; start < ids.size(); start += kChunk) {
      const std::size_t end = std::min(ids.size(), start + kChunk);
      std::string sql = "SELECT " + record_columns() +
                        " FROM audit_events WHERE seq > ? AND event = 'result' AND statement IN (";
      std::vector<std::string> texts;
      for (std::size_t i = start; i < end; ++i) {
        sql += i == start ? "?" : ", ?";
        texts.push_back(ids[i]);
      }
      sql += ") ORDER BY seq";
      auto chunk = query_records(sql, 0, texts);
      if (!chunk) return chunk.error();
      for (auto& record : *chunk) out.push_back(std::move(record));
    }
    return out;
  }

  Result<std::optional<std::string>> result_rows(int64_t seq) override {
    std::lock_guard lock(mutex_);
    StatementUse use(result_rows_.get());
    sqlite3_bind_int64(use.get(), 1, seq);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_ROW) return std::optional<std::string>(column_text(use.get(), 0));
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    return failure("cannot read result rows");
  }

 private:
  Result<JournalTail> tail_locked() {
    StatementUse use(tail_.get());
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_DONE) return JournalTail{};
    if (rc != SQLITE_ROW) return failure("cannot read the journal's tail");
    return JournalTail{sqlite3_column_int64(use.get(), 0), column_text(use.get(), 1)};
  }

  Result<void> append_locked(const std::function<Result<JournalBatch>(const JournalTail&)>& build) {
    auto tail = tail_locked();
    if (!tail) return tail.error();
    auto batch = build(*tail);
    if (!batch) return batch.error();
    const auto& entries = batch->entries;
    // The records, kRowsPerInsert to a statement, then the rest one by one.
    std::size_t next = 0;
    while (next < entries.size()) {
      const bool many = entries.size() - next >= kRowsPerInsert;
      InsertUse use(many ? insert_records_.get() : insert_record_.get());
      const std::size_t rows = many ? kRowsPerInsert : 1;
      for (std::size_t row = 0; row < rows; ++row) {
        if (auto r = bind_record(use.get(), static_cast<int>(row) * kRecordParameters,
                                 entries[next + row].record);
            !r)
          return r;
      }
      if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot append a record");
      next += rows;
    }
    // The kept result rows, keyed by their record's seq (its rowid), likewise.
    std::vector<const JournalEntry*> kept;
    for (const auto& entry : entries)
      if (entry.results) kept.push_back(&entry);
    next = 0;
    while (next < kept.size()) {
      const bool many = kept.size() - next >= kRowsPerInsert;
      InsertUse use(many ? insert_many_results_.get() : insert_results_.get());
      const std::size_t rows = many ? kRowsPerInsert : 1;
      for (std::size_t row = 0; row < rows; ++row) {
        const JournalEntry& entry = *kept[next + row];
        const int index = static_cast<int>(row) * 2;
        const auto& seq = entry.record[Field::seq];  // checked as an integer above
        if (!seq) return make_error("a journal record with result rows has no seq");
        int64_t number = 0;
        std::from_chars(seq->data(), seq->data() + seq->size(), number);
        sqlite3_bind_int64(use.get(), index + 1, number);
        sqlite3_bind_text(use.get(), index + 2, entry.results->data(),
                          static_cast<int>(entry.results->size()), SQLITE_STATIC);
      }
      if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot keep result rows");
      next += rows;
    }
    for (const auto& checkpoint : batch->checkpoints) {
      StatementUse use(insert_checkpoint_.get());
      sqlite3_bind_int64(use.get(), 1, checkpoint.seq);
      bind_text(use.get(), 2, checkpoint.hash);
      bind_text(use.get(), 3, checkpoint.time);
      bind_text(use.get(), 4, checkpoint.instance);
      bind_text(use.get(), 5, checkpoint.key_id);
      bind_text(use.get(), 6, checkpoint.signature);
      if (sqlite3_step(use.get()) != SQLITE_DONE) return failure("cannot write a checkpoint");
    }
    return {};
  }

  // Binds `record` to parameters offset+1 to offset+kRecordParameters of an insert. Text is
  // bound STATIC: the batch outlives the statement's step, so SQLite need not copy it.
  static Result<void> bind_record(sqlite3_stmt* stmt, int offset, const JournalRecord& record) {
    for (std::size_t i = 0; i < kFieldCount; ++i) {
      const int index = offset + static_cast<int>(i) + 1;
      const auto& value = record.fields[i];
      if (!value) {
        sqlite3_bind_null(stmt, index);
        continue;
      }
      if (field_info(static_cast<Field>(i)).type == FieldType::integer) {
        int64_t number = 0;
        const auto [end, ec] =
            std::from_chars(value->data(), value->data() + value->size(), number);
        if (ec != std::errc() || end != value->data() + value->size())
          return make_error(fmt::format("journal field {} is not an integer",
                                        field_info(static_cast<Field>(i)).name));
        sqlite3_bind_int64(stmt, index, number);
      } else {
        sqlite3_bind_text(stmt, index, value->data(), static_cast<int>(value->size()),
                          SQLITE_STATIC);
      }
    }
    sqlite3_bind_text(stmt, offset + kRecordParameters - 1, record.prev_hash.data(),
                      static_cast<int>(record.prev_hash.size()), SQLITE_STATIC);
    sqlite3_bind_text(stmt, offset + kRecordParameters, record.hash.data(),
                      static_cast<int>(record.hash.size()), SQLITE_STATIC);
    return {};
  }

  Result<std::vector<JournalRecord>> query_records(const std::string& sql, int64_t after_seq,
                                                   const std::vector<std::string>& texts) {
    std::lock_guard lock(mutex_);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
      return failure("cannot prepare the search");
    SqliteStatement stmt(raw);
    sqlite3_bind_int64(stmt.get(), 1, after_seq);
    for (std::size_t i = 0; i < texts.size(); ++i)
      bind_text(stmt.get(), static_cast<int>(i) + 2, texts[i]);
    std::vector<JournalRecord> out;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) out.push_back(read_record(stmt.get()));
    if (rc != SQLITE_DONE) return failure("cannot search the journal");
    return out;
  }

  // The seq of the session's first connect record; 0 when it has none.
  Result<int64_t> session_start(const std::string& session) {
    std::lock_guard lock(mutex_);
    StatementUse use(session_start_.get());
    bind_text(use.get(), 1, session);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_DONE) return int64_t{0};
    if (rc != SQLITE_ROW) return failure("cannot find where the session starts");
    return sqlite3_column_int64(use.get(), 0);
  }

  Error failure(std::string_view what) const {
    return make_error(
        fmt::format("audit journal {}: {}: {}", file_.string(), what, sqlite3_errmsg(db_.get())));
  }

  std::mutex mutex_;
  SqliteDatabase db_;
  std::filesystem::path file_;
  std::string instance_;  // a file is one instance's: its one chain
  SqliteStatement tail_;
  SqliteStatement scan_;
  SqliteStatement checkpoints_;
  SqliteStatement result_rows_;
  SqliteStatement session_start_;
  SqliteStatement insert_record_;
  SqliteStatement insert_records_;  // kRowsPerInsert at once
  SqliteStatement insert_results_;
  SqliteStatement insert_many_results_;  // kRowsPerInsert at once
  SqliteStatement insert_checkpoint_;
  SqliteStatement probe_;
};

}  // namespace

Result<std::unique_ptr<JournalStore>> open_sqlite_journal_store(
    const std::filesystem::path& file, const JournalStoreOptions& options) {
  auto db = open_sqlite_database(file, SqliteOpenOptions{.busy_timeout_ms = options.busy_timeout_ms,
                                                         .read_only = options.read_only});
  if (!db) return db.error();
  if (!options.read_only) {
    // NORMAL: these tables are the journal's index, fed from its segment files (which are
    // synced) and rebuilt from them; a commit lost to power loss is indexed again at start.
    if (auto r = sqlite_exec(db->get(), "PRAGMA synchronous=NORMAL"); !r)
      return make_error(fmt::format("audit journal {}: {}", file.string(), r.error().message));
  }
  auto store = std::make_unique<SqliteJournalStore>(std::move(*db), file, options.instance);
  if (auto r = store->prepare(options.read_only); !r) return r.error();
  return std::unique_ptr<JournalStore>(std::move(store));
}

}  // namespace portcullis::store
