// The audit journal's store against real databases: searches give exactly the records a plain
// filter over every record gives, a session's included, in a SQLite file and in a PostgreSQL
// database alike; SQLite's session index (connect records, since migration 4), and a journal at
// migration 3 upgrading in place.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "state_store_backends.h"
#include "store/journal_store.h"
#include "store/sqlite_migrations.h"
#include "support/temp_dir.h"

namespace portcullis::store {
namespace {

struct Spec {
  std::string session;  // empty: no session (an API request)
  std::string event;
  std::string subject;
  std::string command = {};
  std::string verdict = {};
  std::string connection = "app-db";  // empty: none
  std::string credential = {};        // empty: none
};

// Records as the gateway would write them: seq from 1 on, times a second apart but now and
// then a little out of seq order (they are taken when the event happens).
class RecordList {
 public:
  int64_t add(const Spec& spec) {
    const int64_t seq = static_cast<int64_t>(records_.size()) + 1;
    const int64_t second = seq % 7 == 0 ? seq * 2 - 3 : seq * 2;
    JournalRecord record;
    record[Field::seq] = std::to_string(seq);
    record[Field::id] = fmt::format("{}.{}", spec.session.empty() ? "api" : spec.session, seq);
    record[Field::time] = fmt::format("2026-11-26T{:02}:{:02}:{:02}.000000000Z", second / 3600,
                                      second / 60 % 60, second % 60);
    record[Field::instance] = "gw-test";
    if (!spec.session.empty()) record[Field::session] = spec.session;
    record[Field::event] = spec.event;
    if (!spec.subject.empty()) record[Field::subject] = spec.subject;
    if (!spec.connection.empty()) record[Field::connection] = spec.connection;
    record[Field::protocol] = "postgres";
    if (!spec.command.empty()) record[Field::command] = spec.command;
    if (!spec.verdict.empty()) record[Field::verdict] = spec.verdict;
    if (!spec.credential.empty()) record[Field::credential] = spec.credential;
    record.prev_hash = records_.empty() ? std::string(64, '0') : records_.back().hash;
    record.hash = fmt::format("{:064x}", seq);
    records_.push_back(std::move(record));
    return seq;
  }

  const std::vector<JournalRecord>& records() const { return records_; }

 private:
  std::vector<JournalRecord> records_;
};

// What a search finds, by the filter's definition, looking at every record.
std::vector<int64_t> expected_seqs(const std::vector<JournalRecord>& records,
                                   const JournalFilter& filter) {
  auto equal = [](const std::optional<std::string>& field, const std::string& wanted) {
    return wanted.empty() || field == wanted;
  };
  std::vector<int64_t> out;
  for (const auto& record : records) {
    const int64_t seq = std::stoll(*record[Field::seq]);
    if (seq <= filter.after_seq) continue;
    if (!equal(record[Field::subject], filter.subject) ||
        !equal(record[Field::connection], filter.connection) ||
        !equal(record[Field::session], filter.session) ||
        !equal(record[Field::verdict], filter.verdict) ||
        !equal(record[Field::event], filter.event) ||
        !equal(record[Field::credential], filter.credential))
      continue;
    if (!filter.since.empty() && *record[Field::time] < filter.since) continue;
    auto holds = [&](Field field) {
      return record[field] && record[field]->find(filter.contains) != std::string::npos;
    };
    if (!filter.contains.empty() && !holds(Field::command) && !holds(Field::params)) continue;
    out.push_back(seq);
  }
  if (filter.newest_first) std::reverse(out.begin(), out.end());
  if (filter.limit > 0 && out.size() > filter.limit) out.resize(filter.limit);
  return out;
}

std::vector<int64_t> seqs(const std::vector<JournalRecord>& records) {
  std::vector<int64_t> out;
  for (const auto& record : records) out.push_back(std::stoll(*record[Field::seq]));
  return out;
}

std::string describe(const JournalFilter& f) {
  return fmt::format(
      "subject={} connection={} session={} verdict={} event={} credential={} since={} "
      "contains={} after_seq={} limit={} newest_first={}",
      f.subject, f.connection, f.session, f.verdict, f.event, f.credential, f.since, f.contains,
      f.after_seq, f.limit, f.newest_first);
}

// sqlite3 handle closed on scope exit; every statement must succeed.
class Connection {
 public:
  explicit Connection(const std::filesystem::path& file) {
    EXPECT_EQ(sqlite3_open(file.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Connection() { sqlite3_close(db_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (message != nullptr ? message : "?");
      sqlite3_free(message);
    }
  }

  // Column `index` of every row, NULL as "NULL".
  std::vector<std::string> column(const std::string& sql, int index = 0) {
    std::vector<std::string> rows;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return rows;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, index);
      rows.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
    }
    sqlite3_finalize(stmt);
    return rows;
  }

  // The record's present fields and hashes, as a journal of any schema version holds them.
  void insert(const JournalRecord& record) {
    std::string columns;
    std::string values;
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < kFieldCount; ++i) {
      if (!record.fields[i]) continue;
      columns += fmt::format("\"{}\", ", field_info(static_cast<Field>(i)).name);
      values += "?, ";
      texts.push_back(*record.fields[i]);
    }
    columns += "prev_hash, hash";
    values += "?, ?";
    texts.push_back(record.prev_hash);
    texts.push_back(record.hash);
    const std::string sql =
        fmt::format("INSERT INTO audit_events ({}) VALUES ({})", columns, values);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    for (std::size_t i = 0; i < texts.size(); ++i)
      sqlite3_bind_text(stmt, static_cast<int>(i) + 1, texts[i].data(),
                        static_cast<int>(texts[i].size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteJournalStoreTest : public ::testing::Test {
 protected:
  // The store searched: this file's, or (JournalSearchTest) a PostgreSQL database's.
  virtual std::string url() const { return "sqlite://" + file_.string(); }

  std::unique_ptr<JournalStore> open() const {
    auto store = open_journal_store(url(), {});
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  // Appends `list`'s records in batches of `batch`, as the journal's writer does.
  void append(JournalStore& store, const RecordList& list, std::size_t batch = 7) {
    const auto& records = list.records();
    for (std::size_t start = 0; start < records.size(); start += batch) {
      auto appended = store.append([&](const JournalTail&) -> Result<JournalBatch> {
        JournalBatch out;
        for (std::size_t i = start; i < std::min(records.size(), start + batch); ++i)
          out.entries.push_back(JournalEntry{records[i], std::nullopt});
        return out;
      });
      ASSERT_TRUE(appended) << appended.error().message;
    }
  }

  std::vector<int64_t> search(JournalStore& store, const JournalFilter& filter) {
    auto found = store.search(filter);
    EXPECT_TRUE(found) << found.error().message;
    return found ? seqs(*found) : std::vector<int64_t>{};
  }

  // Every combination of filters, with and without a cursor and a limit, either way round:
  // the store finds what the filter's definition says.
  void expect_every_search_exact(JournalStore& store, const RecordList& list) {
    const std::string mid_time = *list.records()[list.records().size() / 2][Field::time];
    for (const std::string session : {"", "s-a", "s-b", "s-c", "s-x", "s-r", "nope"})
      for (const std::string subject : {"", "alice", "dave"})
        for (const std::string event : {"", "statement", "review", "connect"})
          for (const std::string verdict : {"", "allow"})
            for (const std::string& since : {std::string(), mid_time})
              for (const std::string contains : {"", "t1"})
                for (const int64_t after_seq : {0, 5, 30})
                  for (const std::size_t limit : {0, 2})
                    for (const bool newest_first : {false, true}) {
                      JournalFilter filter;
                      filter.session = session;
                      filter.subject = subject;
                      filter.event = event;
                      filter.verdict = verdict;
                      filter.since = since;
                      filter.contains = contains;
                      filter.after_seq = after_seq;
                      filter.limit = limit;
                      filter.newest_first = newest_first;
                      ASSERT_EQ(search(store, filter), expected_seqs(list.records(), filter))
                          << describe(filter);
                    }
  }

  portcullis::testing::TempDir dir_{"portcullis-journal-store-"};
  std::filesystem::path file_ = dir_ / "state.db";
};

// The searches, against both stores: a PostgreSQL store holds one chain the same way when one
// instance writes it.
class JournalSearchTest : public SqliteJournalStoreTest,
                          public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == portcullis::testing::kPostgresBackend)
      postgres_url_ =
          portcullis::testing::fresh_postgres_url(portcullis::testing::shared_postgres_server());
  }
  std::string url() const override {
    return postgres_url_.empty() ? SqliteJournalStoreTest::url() : postgres_url_;
  }

  std::string postgres_url_;
};

INSTANTIATE_TEST_SUITE_P(Stores, JournalSearchTest,
                         ::testing::ValuesIn(portcullis::testing::state_store_backends()),
                         portcullis::testing::backend_test_name);

// Sessions of two subjects interleaved, one subject with two sessions, a review of session
// s-a voted on by another subject after s-a ended, an API request without a session, a
// session s-x without a connect record (begun before the others), a refused connection.
RecordList interleaved_sessions() {
  RecordList list;
  list.add({"s-x", "statement", "eve", "SELECT t1 FROM x", "allow", "billing"});
  list.add({"s-x", "result", "eve", {}, {}, "billing"});
  list.add({"s-a", "connect", "alice", {}, "allow"});
  list.add({"s-b", "connect", "bob", {}, "allow"});
  list.add({"s-r", "connect", "mallory", {}, "deny"});
  list.add({"s-c", "connect", "alice", {}, "allow", "billing"});
  for (int k = 1; k <= 6; ++k) {
    for (const char* session : {"s-a", "s-b", "s-c"}) {
      const std::string subject = std::string(session) == "s-b" ? "bob" : "alice";
      const std::string connection = std::string(session) == "s-c" ? "billing" : "app-db";
      const std::string verdict = k % 3 == 0 ? "deny" : "allow";
      list.add({session, "statement", subject, fmt::format("SELECT {} FROM t{}", k, k), verdict,
                connection});
      if (verdict == "allow") list.add({session, "result", subject, {}, {}, connection});
    }
    if (k == 2) list.add({"s-a", "review", "alice", "DELETE FROM t2", "review_pending"});
    if (k == 4) list.add({"", "api", "admin", "POST /api/v1/sessions/s-b/kill", "ok", ""});
  }
  list.add({"s-b", "disconnect", "bob"});
  list.add({"s-a", "disconnect", "alice"});
  list.add({"s-a", "review", "dave", "DELETE FROM t2", "approved"});
  list.add({"s-x", "statement", "eve", "SELECT t1 FROM y", "allow", "billing"});
  list.add({"s-c", "disconnect", "alice", {}, {}, "billing"});
  list.add({"s-a", "review", "alice", "DELETE FROM t2", "expired"});
  return list;
}

TEST_P(JournalSearchTest, SessionSearchFindsExactlyTheSessionsRecordsAmongOthers) {
  const RecordList list = interleaved_sessions();
  auto store = open();
  ASSERT_TRUE(store);
  append(*store, list);

  JournalFilter filter;
  filter.session = "s-a";
  const auto found = search(*store, filter);
  EXPECT_EQ(found, expected_seqs(list.records(), filter));
  ASSERT_EQ(found.size(), 15u);  // connect, 6 statements, 4 results, 3 review steps, disconnect
  // The review steps are found whoever took them, the vote after the session ended too.
  filter.event = "review";
  auto reviews = store->search(filter);
  ASSERT_TRUE(reviews);
  ASSERT_EQ(reviews->size(), 3u);
  EXPECT_EQ((*reviews)[1][Field::subject], "dave");
  EXPECT_EQ((*reviews)[1][Field::verdict], "approved");
}

// After a key leaks: one subject's sessions with two keys and a token, another subject's with
// a third key. A search by credential finds the records of that key's sessions only.
TEST_P(JournalSearchTest, FindsTheRecordsOfOneCredential) {
  const std::string leaked =
      "ssh_key k-7k3qx9p2m4ab SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
  const std::string other = "ssh_key k-2bcdefghjkmn SHA256:Hn6Uw0xYz";
  RecordList list;
  for (int round = 0; round < 3; ++round) {
    list.add({.session = fmt::format("s-leak-{}", round),
              .event = "connect",
              .subject = "ci-bot",
              .verdict = "allow",
              .credential = leaked});
    list.add({.session = fmt::format("s-other-{}", round),
              .event = "connect",
              .subject = "ci-bot",
              .verdict = "allow",
              .credential = other});
    list.add({.session = fmt::format("s-token-{}", round),
              .event = "connect",
              .subject = "ci-bot",
              .verdict = "allow",
              .credential = "jti abc"});
    list.add({.session = fmt::format("s-bob-{}", round),
              .event = "connect",
              .subject = "bob",
              .verdict = "allow",
              .credential = "ssh_key k-3cdefghjkmnp SHA256:bob"});
    for (const char* kind : {"leak", "other", "token", "bob"})
      list.add({.session = fmt::format("s-{}-{}", kind, round),
                .event = "statement",
                .subject = std::string(kind) == "bob" ? "bob" : "ci-bot",
                .command = fmt::format("deploy {} {}", kind, round),
                .verdict = "allow",
                .credential = std::string(kind) == "leak"    ? leaked
                              : std::string(kind) == "other" ? other
                              : std::string(kind) == "token"
                                  ? "jti abc"
                                  : "ssh_key k-3cdefghjkmnp SHA256:bob"});
  }
  list.add({.session = "s-old",
            .event = "statement",
            .subject = "ci-bot",
            .command = "deploy old",
            .verdict = "allow"});  // written before records named their credential
  auto store = open();
  ASSERT_TRUE(store);
  append(*store, list);

  JournalFilter filter;
  filter.credential = leaked;
  filter.event = "statement";
  auto found = store->search(filter);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 3u);
  for (int round = 0; round < 3; ++round)
    EXPECT_EQ((*found)[round][Field::command], fmt::format("deploy leak {}", round));
  for (const std::string subject : {"", "ci-bot", "bob"})
    for (const std::string event : {"", "statement", "connect"})
      for (const std::size_t limit : {0, 2})
        for (const bool newest_first : {false, true}) {
          filter.subject = subject;
          filter.event = event;
          filter.limit = limit;
          filter.newest_first = newest_first;
          EXPECT_EQ(search(*store, filter), expected_seqs(list.records(), filter))
              << describe(filter);
        }
}

TEST_P(JournalSearchTest, EverySearchFindsWhatItsFiltersSay) {
  const RecordList list = interleaved_sessions();
  auto store = open();
  ASSERT_TRUE(store);
  append(*store, list);
  expect_every_search_exact(*store, list);
}

TEST_P(JournalSearchTest, PagesThroughASessionWithCursorsAndLimits) {
  const RecordList list = interleaved_sessions();
  auto store = open();
  ASSERT_TRUE(store);
  append(*store, list);
  JournalFilter all;
  all.session = "s-c";
  const auto every = search(*store, all);
  ASSERT_EQ(every.size(), 12u);  // connect, 6 statements, 4 results, disconnect

  // Oldest first, two at a time, each page after the last seq of the one before.
  JournalFilter page = all;
  page.limit = 2;
  std::vector<int64_t> paged;
  for (int pages = 0; pages < 20; ++pages) {
    const auto found = search(*store, page);
    paged.insert(paged.end(), found.begin(), found.end());
    if (found.size() < page.limit) break;
    page.after_seq = found.back();
  }
  EXPECT_EQ(paged, every);

  // Newest first: the last three, newest at the front; with a cursor, none before it.
  JournalFilter newest = all;
  newest.newest_first = true;
  newest.limit = 3;
  EXPECT_EQ(search(*store, newest), (std::vector<int64_t>{every[11], every[10], every[9]}));
  newest.after_seq = every[10];
  EXPECT_EQ(search(*store, newest), (std::vector<int64_t>{every[11]}));
  // A cursor before the session's start changes nothing.
  newest.after_seq = 1;
  newest.limit = 0;
  EXPECT_EQ(search(*store, newest), std::vector<int64_t>(every.rbegin(), every.rend()));

  // Below a cursor, newest first: the page before a page (the API's `before`).
  const auto records = store->search(all);
  ASSERT_TRUE(records) << records.error().message;
  JournalFilter before = all;
  before.newest_first = true;
  before.limit = 3;
  before.before_cursor = (*records)[9].cursor;
  EXPECT_EQ(search(*store, before), (std::vector<int64_t>{every[8], every[7], every[6]}));
  before.after_cursor = (*records)[6].cursor;
  EXPECT_EQ(search(*store, before), (std::vector<int64_t>{every[8], every[7]}));
}

TEST_P(JournalSearchTest, FindsTheRecordsOfASessionWithoutConnectRecord) {
  const RecordList list = interleaved_sessions();
  auto store = open();
  ASSERT_TRUE(store);
  append(*store, list);
  JournalFilter filter;
  filter.session = "s-x";
  // Before every other session's connect record, and after all of them.
  EXPECT_EQ(search(*store, filter), (std::vector<int64_t>{1, 2, 42}));
  filter.newest_first = true;
  filter.limit = 2;
  EXPECT_EQ(search(*store, filter), (std::vector<int64_t>{42, 2}));
  filter.session = "nope";
  EXPECT_TRUE(search(*store, filter).empty());
}

TEST_F(SqliteJournalStoreTest, IndexesOnlyConnectRecordsBySession) {
  ASSERT_TRUE(open());
  Connection db(file_);
  EXPECT_EQ(db.column("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                      "'audit_events' ORDER BY name"),
            (std::vector<std::string>{"audit_events_session_start", "audit_events_statement",
                                      "audit_events_subject", "audit_events_time"}));
  // Where a session starts is found through that index, not by reading the table.
  const auto plan = db.column(
      "EXPLAIN QUERY PLAN SELECT seq FROM audit_events WHERE session = 's' AND event = 'connect' "
      "ORDER BY seq LIMIT 1",
      3);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_NE(plan[0].find("audit_events_session_start"), std::string::npos) << plan[0];
}

TEST_F(SqliteJournalStoreTest, UpgradesAJournalAtMigration3InPlace) {
  const RecordList list = interleaved_sessions();
  {
    // The file as a gateway of migration 3 left it: the full (session, seq) index, records.
    Connection db(file_);
    db.exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT "
        "NULL, applied_at INTEGER NOT NULL) STRICT");
    for (const auto& migration : sqlite_migrations()) {
      if (migration.version > 3) continue;
      db.exec(std::string(migration.sql));
      db.exec(fmt::format("INSERT INTO schema_migrations VALUES ({}, 'v{}', 0)", migration.version,
                          migration.version));
    }
    ASSERT_EQ(db.column("SELECT name FROM sqlite_master WHERE name = 'audit_events_session'"),
              std::vector<std::string>{"audit_events_session"});
    for (const auto& record : list.records()) db.insert(record);
  }

  auto store = open();
  ASSERT_TRUE(store);
  {
    Connection db(file_);
    EXPECT_EQ(db.column("SELECT version FROM schema_migrations ORDER BY version"),
              (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7"}));
    EXPECT_TRUE(
        db.column("SELECT name FROM sqlite_master WHERE name = 'audit_events_session'").empty());
    EXPECT_EQ(db.column("SELECT seq FROM audit_events INDEXED BY audit_events_session_start "
                        "WHERE event = 'connect' AND session IS NOT NULL ORDER BY seq"),
              (std::vector<std::string>{"3", "4", "5", "6"}));
    EXPECT_EQ(db.column("PRAGMA integrity_check"), std::vector<std::string>{"ok"});
  }

  // Every record as it was written.
  std::vector<JournalRecord> scanned;
  ASSERT_TRUE(store->scan(1, [&](const JournalEntry& entry) {
    scanned.push_back(entry.record);
    return true;
  }));
  ASSERT_EQ(scanned.size(), list.records().size());
  for (std::size_t i = 0; i < scanned.size(); ++i) {
    EXPECT_EQ(scanned[i].fields, list.records()[i].fields) << i;
    EXPECT_EQ(scanned[i].hash, list.records()[i].hash) << i;
    EXPECT_EQ(scanned[i].prev_hash, list.records()[i].prev_hash) << i;
  }
  expect_every_search_exact(*store, list);

  // And the journal goes on: a new session's records are found as well.
  RecordList more = list;
  more.add({"s-n", "connect", "nina", {}, "allow"});
  more.add({"s-n", "statement", "nina", "SELECT 1", "allow"});
  auto appended = store->append([&](const JournalTail& tail) -> Result<JournalBatch> {
    EXPECT_EQ(tail.seq, static_cast<int64_t>(list.records().size()));
    JournalBatch out;
    for (std::size_t i = list.records().size(); i < more.records().size(); ++i)
      out.entries.push_back(JournalEntry{more.records()[i], std::nullopt});
    return out;
  });
  ASSERT_TRUE(appended) << appended.error().message;
  JournalFilter filter;
  filter.session = "s-n";
  EXPECT_EQ(search(*store, filter), expected_seqs(more.records(), filter));
  EXPECT_EQ(search(*store, filter).size(), 2u);
}

}  // namespace
}  // namespace portcullis::store
