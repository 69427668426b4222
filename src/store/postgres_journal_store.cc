// JournalStore on PostgreSQL. Every instance's index thread appends its chain's records in
// transactions that first take one advisory lock, so that positions (the cursor) are given in
// commit order across instances: a live tail reading "after position P" never misses a record
// that commits later with a smaller one. Appends are batched (the index gathers records for
// 50 ms), so the lock is taken a few times a second per instance. Record fields are kept as
// text exactly as hashed (integers as bigint, which read back as the same digits).
#include "store/postgres_journal_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <string>
#include <vector>

#include "store/postgres_migrations.h"
#include "store/postgres_support.h"

namespace portcullis::store {
namespace {

// Held by each append transaction: "portcjnl" in ASCII, beside the migration lock's key.
constexpr int64_t kAppendLockKey = 0x706f72746a6e6c00;
// The first half of the two-key advisory locks that claim a chain (the second: a hash of its
// instance name). Two-key locks live apart from one-key locks such as the two above.
constexpr int32_t kChainLockSpace = 0x706f7274;
// Records read per query while scanning a chain: bounds memory on a long journal.
constexpr int64_t kScanPage = 1000;
// Ids per IN list of results_for.
constexpr std::size_t kIdsPerQuery = 500;

// "seq", "id", ... "results_sha256", "prev_hash", "hash": the record's columns in order.
std::string record_columns(std::string_view prefix = {}) {
  std::string columns;
  for (std::size_t i = 0; i < kFieldCount; ++i)
    columns += fmt::format("{}\"{}\", ", prefix, field_info(static_cast<Field>(i)).name);
  columns += fmt::format("{}prev_hash, {}hash", prefix, prefix);
  return columns;
}

constexpr int kRecordColumns = static_cast<int>(kFieldCount) + 2;

JournalRecord read_record(const PGresult* result, int row, int first_column = 0) {
  JournalRecord record;
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const int column = first_column + static_cast<int>(i);
    if (!pg_is_null(result, row, column)) record.fields[i] = pg_text(result, row, column);
  }
  record.prev_hash = pg_text(result, row, first_column + static_cast<int>(kFieldCount));
  record.hash = pg_text(result, row, first_column + static_cast<int>(kFieldCount) + 1);
  return record;
}

// One value in COPY's text format: backslash, tab, newline and carriage return escaped; SQL
// NULL as \N.
void append_copy_text(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

void append_copy_value(std::string& out, const std::optional<std::string>& value) {
  if (value)
    append_copy_text(out, *value);
  else
    out += "\\N";
}

int64_t seq_of(const JournalRecord& record) {
  int64_t seq = 0;
  if (const auto& text = record[Field::seq])
    std::from_chars(text->data(), text->data() + text->size(), seq);
  return seq;
}

class PostgresJournalStore final : public JournalStore {
 public:
  PostgresJournalStore(PgConnection conn, std::string chain, std::string where, bool writer)
      : conn_(std::move(conn)),
        chain_(std::move(chain)),
        where_(std::move(where)),
        writer_(writer) {}

  // A writer holds a session lock on its chain's name for as long as its connection lives:
  // two instances given the same `instance` would append one chain twice over, each breaking
  // the other's, so the second is refused instead.
  Result<void> claim_chain() {
    if (!writer_) return {};
    auto claimed = run("SELECT pg_try_advisory_lock($1, hashtext($2))",
                       {std::to_string(kChainLockSpace), chain_});
    if (!claimed) return claimed.error();
    if (pg_text(claimed->get(), 0, 0) != "t")
      return make_error(fmt::format(
          "audit journal {}: another gateway instance named \"{}\" is indexing into this state "
          "store; give each instance its own `instance` name",
          where_, chain_));
    return {};
  }

  Result<void> append(
      const std::function<Result<JournalBatch>(const JournalTail&)>& build) override {
    std::lock_guard lock(mutex_);
    if (auto r = usable(); !r) return r;
    if (auto r = run("BEGIN"); !r) return r.error();
    auto done = append_locked(build);
    if (!done) {
      (void)run("ROLLBACK");
      return done;
    }
    if (auto r = run("COMMIT"); !r) return r.error();
    return {};
  }

  Result<void> probe() override {
    std::lock_guard lock(mutex_);
    if (auto r = usable(); !r) return r;
    auto r =
        run("INSERT INTO audit_probe (chain, at) VALUES ($1, now()) "
            "ON CONFLICT (chain) DO UPDATE SET at = excluded.at",
            {chain_});
    if (!r) return r.error();
    return {};
  }

  Result<JournalTail> tail() override {
    std::lock_guard lock(mutex_);
    if (auto r = usable(); !r) return r.error();
    return tail_locked();
  }

  Result<void> scan(int64_t from_seq,
                    const std::function<bool(const JournalEntry&)>& visit) override {
    int64_t next = from_seq;
    for (;;) {
      std::vector<JournalEntry> page;
      {
        std::lock_guard lock(mutex_);
        if (auto r = usable(); !r) return r;
        auto read = run("SELECT " + record_columns("e.") +
                            ", r.body FROM audit_events e LEFT JOIN audit_results r "
                            "ON r.chain = e.chain AND r.seq = e.seq "
                            "WHERE e.chain = $1 AND e.seq >= $2 ORDER BY e.seq LIMIT $3",
                        {chain_, std::to_string(next), std::to_string(kScanPage)});
        if (!read) return read.error();
        const PGresult* rows = read->get();
        for (int row = 0; row < PQntuples(rows); ++row) {
          JournalEntry entry;
          entry.record = read_record(rows, row);
          if (!pg_is_null(rows, row, kRecordColumns))
            entry.results = pg_text(rows, row, kRecordColumns);
          page.push_back(std::move(entry));
        }
      }
      for (const auto& entry : page)
        if (!visit(entry)) return {};
      if (static_cast<int64_t>(page.size()) < kScanPage) return {};
      next = seq_of(page.back().record) + 1;
    }
  }

  Result<std::vector<JournalCheckpoint>> checkpoints() override {
    std::lock_guard lock(mutex_);
    if (auto r = usable(); !r) return r.error();
    auto read =
        run("SELECT seq, hash, \"time\", instance, key_id, signature FROM audit_checkpoints "
            "WHERE chain = $1 ORDER BY seq",
            {chain_});
    if (!read) return read.error();
    std::vector<JournalCheckpoint> out;
    const PGresult* rows = read->get();
    for (int row = 0; row < PQntuples(rows); ++row)
      out.push_back(JournalCheckpoint{pg_int64(rows, row, 0), pg_text(rows, row, 1),
                                      pg_text(rows, row, 2), pg_text(rows, row, 3),
                                      pg_text(rows, row, 4), pg_text(rows, row, 5)});
    return out;
  }

  Result<std::vector<std::string>> instances() override {
    std::lock_guard lock(mutex_);
    if (auto r = usable(); !r) return r.error();
    auto read =
        run("SELECT chain FROM audit_events GROUP BY chain "
            "UNION SELECT chain FROM audit_checkpoints GROUP BY chain ORDER BY 1");
    if (!read) return read.error();
    std::vector<std::string> out;
    for (int row = 0; row < PQntuples(read->get()); ++row)
      out.push_back(pg_text(read->get(), row, 0));
    return out;
  }

  Result<std::vector<JournalRecord>> search(const JournalFilter& filter) override {
    std::vector<PgParam> params;
    auto param = [&](std::string value) {
      params.emplace_back(std::move(value));
      return fmt::format("${}", params.size());
    };
    std::string sql = "SELECT position, " + record_columns() +
                      " FROM audit_events WHERE position > " +
                      param(std::to_string(filter.after_cursor));
    if (filter.own_chain) sql += " AND chain = " + param(chain_);
    if (filter.after_seq > 0) sql += " AND seq > " + param(std::to_string(filter.after_seq));
    if (filter.before_cursor > 0)
      sql += " AND position < " + param(std::to_string(filter.before_cursor));
    auto add_equal = [&](const char* column, const std::string& value) {
      if (!value.empty()) sql += fmt::format(" AND {} = {}", column, param(value));
    };
    add_equal("chain", filter.instance);
    add_equal("subject", filter.subject);
    add_equal("connection", filter.connection);
    add_equal("session", filter.session);
    add_equal("verdict", filter.verdict);
    add_equal("event", filter.event);
    add_equal("credential", filter.credential);  // not indexed, as in SQLite
    if (!filter.since.empty()) sql += " AND \"time\" >= " + param(filter.since);
    if (!filter.contains.empty()) {
      // strpos, not LIKE: the text is matched as written, with no wildcard characters.
      const std::string text = param(filter.contains);
      sql += fmt::format(" AND (strpos(command, {0}) > 0 OR strpos(params, {0}) > 0)", text);
    }
    sql += filter.newest_first ? " ORDER BY position DESC" : " ORDER BY position";
    if (filter.limit > 0) sql += fmt::format(" LIMIT {}", filter.limit);
    return query_records(sql, params);
  }

  Result<int64_t> last_cursor() override {
    std::lock_guard lock(mutex_);
    if (auto r = usable(); !r) return r.error();
    auto read = run("SELECT coalesce(max(position), 0) FROM audit_events");
    if (!read) return read.error();
    return pg_int64(read->get(), 0, 0);
  }

  Result<std::vector<JournalRecord>> results_for(const std::vector<std::string>& ids) override {
    std::vector<JournalRecord> out;
    for (std::size_t start = 0; start < ids.size(); start += kIdsPerQuery) {
      const std::size_t end = std::min(ids.size(), start + kIdsPerQuery);
      std::vector<PgParam> params;
      std::string sql = "SELECT position, " + record_columns() +
                        " FROM audit_events WHERE event = 'result' AND statement IN (";
      for (std::size_t i = start; i < end; ++i) {
        params.emplace_back(ids[i]);
        sql += fmt::format("{}${}", i == start ? "" : ", ", params.size());
      }
      sql += ") ORDER BY position";
      auto chunk = query_records(sql, params);
      if (!chunk) return chunk.error();
      for (auto& record : *chunk) out.push_back(std::move(record));
    }
    return out;
  }

  Result<std::optional<std::string>> result_rows(int64_t seq) override {
    std::lock_guard lock(mutex_);
    if (auto r = usable(); !r) return r.error();
    auto read = run("SELECT body FROM audit_results WHERE chain = $1 AND seq = $2",
                    {chain_, std::to_string(seq)});
    if (!read) return read.error();
    if (PQntuples(read->get()) == 0) return std::optional<std::string>();
    return std::optional<std::string>(pg_text(read->get(), 0, 0));
  }

 private:
  Result<void> append_locked(const std::function<Result<JournalBatch>(const JournalTail&)>& build) {
    if (auto r = run("SELECT pg_advisory_xact_lock($1)", {std::to_string(kAppendLockKey)}); !r)
      return r.error();
    auto tail = tail_locked();
    if (!tail) return tail.error();
    auto batch = build(*tail);
    if (!batch) return batch.error();
    auto last = run("SELECT coalesce(max(position), 0) FROM audit_events");
    if (!last) return last.error();
    int64_t position = pg_int64(last->get(), 0, 0);
    // COPY, not INSERT: a multi-row INSERT of 33 parameters a row spent most of the store's
    // time parsing and planning; COPY takes the rows as one stream.
    const auto& entries = batch->entries;
    std::string records;
    std::string results;
    for (const auto& entry : entries) {
      const JournalRecord& record = entry.record;
      append_copy_text(records, chain_);
      records += '\t';
      records += std::to_string(++position);
      for (const auto& field : record.fields) {
        records += '\t';
        append_copy_value(records, field);
      }
      records += '\t';
      append_copy_text(records, record.prev_hash);
      records += '\t';
      append_copy_text(records, record.hash);
      records += '\n';
      if (!entry.results) continue;
      append_copy_text(results, chain_);
      results += '\t';
      append_copy_value(results, record[Field::seq]);
      results += '\t';
      append_copy_value(results, entry.results);
      results += '\n';
    }
    if (auto r = copy_in("audit_events (chain, position, " + record_columns() + ")", records); !r)
      return r;
    if (auto r = copy_in("audit_results (chain, seq, body)", results); !r) return r;
    for (const auto& checkpoint : batch->checkpoints) {
      if (auto r = run("INSERT INTO audit_checkpoints (chain, seq, hash, \"time\", instance, "
                       "key_id, signature) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       {chain_, std::to_string(checkpoint.seq), checkpoint.hash, checkpoint.time,
                        checkpoint.instance, checkpoint.key_id, checkpoint.signature});
          !r)
        return r.error();
    }
    return {};
  }

  // Streams `rows` (COPY text format, a line each) into `target` ("table (columns)").
  Result<void> copy_in(const std::string& target, const std::string& rows) {
    if (rows.empty()) return {};
    PGconn* conn = conn_.get();
    auto failed = [&](std::string_view what) {
      const bool broken = PQstatus(conn) != CONNECTION_OK;
      return make_error(broken ? "unavailable" : "",
                        fmt::format("audit journal {}: {}: {}", where_, what,
                                    pg_error_message(conn, PgExecution{})));
    };
    PgResult started(PQexec(conn, ("COPY " + target + " FROM STDIN").c_str()));
    if (PQresultStatus(started.get()) != PGRES_COPY_IN) {
      PgExecution execution{std::move(started), true};
      return make_error(
          PQstatus(conn) != CONNECTION_OK ? "unavailable" : "",
          fmt::format("audit journal {}: {}", where_, pg_error_message(conn, execution)));
    }
    // In pieces: a record may be larger than an int counts (a command of up to 1 GiB, its
    // kept rows beside it).
    constexpr std::size_t kPiece = 1 << 20;
    for (std::size_t at = 0; at < rows.size(); at += kPiece) {
      const std::size_t size = std::min(kPiece, rows.size() - at);
      if (PQputCopyData(conn, rows.data() + at, static_cast<int>(size)) != 1)
        return failed("cannot send the records");
    }
    if (PQputCopyEnd(conn, nullptr) != 1) return failed("cannot send the records");
    Result<void> outcome;
    // The COPY's own result, then the end of the command's results.
    while (PGresult* raw = PQgetResult(conn)) {
      PgResult result(raw);
      if (PQresultStatus(result.get()) != PGRES_COMMAND_OK && outcome) {
        PgExecution execution{std::move(result), true};
        outcome = make_error(
            PQstatus(conn) != CONNECTION_OK ? "unavailable" : "",
            fmt::format("audit journal {}: {}", where_, pg_error_message(conn, execution)));
      }
    }
    return outcome;
  }

  Result<JournalTail> tail_locked() {
    auto read = run("SELECT seq, hash FROM audit_events WHERE chain = $1 ORDER BY seq DESC LIMIT 1",
                    {chain_});
    if (!read) return read.error();
    if (PQntuples(read->get()) == 0) return JournalTail{};
    return JournalTail{pg_int64(read->get(), 0, 0), pg_text(read->get(), 0, 1)};
  }

  Result<std::vector<JournalRecord>> query_records(const std::string& sql,
                                                   const std::vector<PgParam>& params) {
    std::lock_guard lock(mutex_);
    if (auto r = usable(); !r) return r.error();
    auto read = run(sql, params);
    if (!read) return read.error();
    std::vector<JournalRecord> out;
    const PGresult* rows = read->get();
    out.reserve(static_cast<std::size_t>(PQntuples(rows)));
    for (int row = 0; row < PQntuples(rows); ++row) {
      out.push_back(read_record(rows, row, 1));
      out.back().cursor = pg_int64(rows, row, 0);
    }
    return out;
  }

  // The connection, re-established when the last call found it broken (the server restarted,
  // the network dropped): the index retries on its own, so one attempt per call.
  Result<void> usable() {
    if (PQstatus(conn_.get()) == CONNECTION_OK) return {};
    PQreset(conn_.get());
    // A new connection: the chain's claim went with the old one.
    if (PQstatus(conn_.get()) == CONNECTION_OK) return claim_chain();
    return make_error("unavailable",
                      fmt::format("audit journal {}: the state store cannot be reached: {}", where_,
                                  pg_error_message(conn_.get(), PgExecution{})));
  }

  Result<PgResult> run(const std::string& sql, const std::vector<PgParam>& params = {}) {
    PgExecution execution = pg_exec(conn_.get(), sql, params);
    if (execution.ok()) return std::move(execution.result);
    const bool broken = PQstatus(conn_.get()) != CONNECTION_OK;
    return make_error(
        broken ? "unavailable" : "",
        fmt::format("audit journal {}: {}", where_, pg_error_message(conn_.get(), execution)));
  }

  std::mutex mutex_;
  PgConnection conn_;
  const std::string chain_;
  const std::string where_;  // the URL with its password redacted, for messages
  const bool writer_;        // appends its chain (JournalStoreOptions::appends_chain)
};

}  // namespace

Result<std::unique_ptr<JournalStore>> open_postgres_journal_store(
    std::string_view url, const JournalStoreOptions& options) {
  auto conn = pg_connect(url);
  if (!conn) return conn.error();
  if (!options.read_only)
    if (auto r = apply_postgres_migrations(conn->get()); !r) return r.error();
  auto store = std::make_unique<PostgresJournalStore>(
      std::move(*conn), options.instance, redact_url_password(url), options.appends_chain);
  if (auto claimed = store->claim_chain(); !claimed) return claimed.error();
  return std::unique_ptr<JournalStore>(std::move(store));
}

}  // namespace portcullis::store
