// The audit tests' journal files, events and raw SQL access.
#include "journal_fixture.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <stdexcept>

namespace portcullis::audit::testing {
namespace {

// sqlite3 handle closed on scope exit.
struct Connection {
  explicit Connection(const std::filesystem::path& file) {
    if (sqlite3_open(file.c_str(), &db) != SQLITE_OK)
      throw std::runtime_error("cannot open " + file.string());
    sqlite3_busy_timeout(db, 5000);
  }
  ~Connection() { sqlite3_close(db); }
  sqlite3* db = nullptr;
};

}  // namespace

identity::SigningKey new_signing_key() {
  auto key = identity::SigningKey::generate();
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(*key);
}

::testing::AssertionResult Contains(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

std::vector<Event> session_events(const SessionSpec& spec) {
  std::vector<Event> events;
  Event base;
  base.session = spec.session;
  base.subject = spec.subject;
  base.subject_kind = "user";
  base.groups = {"engineering"};
  base.auth = "gateway_token";
  base.client_addr = "127.0.0.1:50000";
  base.connection = spec.connection;
  base.protocol = "postgres";
  int counter = 0;
  auto next = [&](std::string_view kind, int offset_ms) {
    Event event = base;
    event.event = std::string(kind);
    event.id = fmt::format("{}.{}", spec.session, ++counter);
    event.time = spec.start + std::chrono::milliseconds(offset_ms);
    return event;
  };
  Event connect = next(kEventConnect, 0);
  connect.verdict = "allow";
  connect.rule = "engineers-read";
  events.push_back(connect);
  for (int k = 1; k <= spec.statements; ++k) {
    Event statement = next(kEventStatement, 10 * k);
    statement.command = fmt::format("SELECT {} FROM t{}", k, k);
    statement.fingerprint = "select-fingerprint";
    statement.kinds = {"select"};
    statement.classes = {"read"};
    statement.verdict = spec.verdict;
    statement.rule = "engineers-read";
    const std::string statement_id = statement.id;
    events.push_back(statement);
    Event result = next(kEventResult, 10 * k + 5);
    result.statement = statement_id;
    result.rows = k;
    result.bytes_out = 100 + static_cast<uint64_t>(k);
    result.masked = {{"email", static_cast<uint64_t>(k)}};
    result.duration_us = 1000 * k;
    ResultRows rows;
    rows.columns = {"n", "email"};
    rows.rows.push_back({std::to_string(k), std::string("a***@example.com")});
    rows.rows.push_back({std::nullopt, std::string("b***@example.com")});
    result.results = rows;
    events.push_back(result);
  }
  events.push_back(next(kEventDisconnect, 10 * spec.statements + 10));
  return events;
}

std::unique_ptr<store::JournalStore> JournalFixture::open_store() const {
  auto store = store::open_journal_store(state_url_, {});
  if (!store) throw std::runtime_error(store.error().message);
  return std::move(*store);
}

std::unique_ptr<Journal> JournalFixture::start_journal(std::uint64_t checkpoint_every) {
  JournalOptions options;
  options.instance = "gw-test";
  options.checkpoint_every = checkpoint_every;
  options.batch_delay = std::chrono::milliseconds(1);
  options.dir = journal_dir_;
  options.segment_size = kSegmentSize;
  auto journal = Journal::start(open_store(), key_, options);
  if (!journal) throw std::runtime_error(journal.error().message);
  return std::move(*journal);
}

void JournalFixture::write_events(const std::vector<Event>& events,
                                  std::uint64_t checkpoint_every) {
  auto journal = start_journal(checkpoint_every);
  for (const auto& event : events) journal->append(event);
  journal->close();
  ASSERT_TRUE(journal->healthy()) << journal->last_error();
}

void JournalFixture::exec_sql(const std::string& sql,
                              const std::vector<std::string>& params) const {
  Connection connection(db_file_);
  if (params.empty()) {
    char* message = nullptr;
    if (sqlite3_exec(connection.db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (message ? message : "?");
      sqlite3_free(message);
    }
    return;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(connection.db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(connection.db);
    return;
  }
  for (std::size_t i = 0; i < params.size(); ++i)
    sqlite3_bind_text(stmt, static_cast<int>(i) + 1, params[i].data(),
                      static_cast<int>(params[i].size()), SQLITE_TRANSIENT);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(connection.db);
  sqlite3_finalize(stmt);
}

std::vector<std::string> JournalFixture::query_column(const std::string& sql) const {
  Connection connection(db_file_);
  sqlite3_stmt* stmt = nullptr;
  std::vector<std::string> rows;
  if (sqlite3_prepare_v2(connection.db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(connection.db);
    return rows;
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    rows.emplace_back(text ? reinterpret_cast<const char*>(text) : "NULL");
  }
  sqlite3_finalize(stmt);
  return rows;
}

VerifyReport JournalFixture::verify(const std::vector<Checkpoint>& external) {
  auto store = open_store();
  auto report = verify_journal(*store, key_.pkey(), external);
  if (!report) throw std::runtime_error(report.error().message);
  return *report;
}

}  // namespace portcullis::audit::testing
