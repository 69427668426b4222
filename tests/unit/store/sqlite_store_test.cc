// API keys in the state store, against both stores: real SQLite files in a temporary folder
// and real PostgreSQL databases; and what only the SQLite store does with its file.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "state_store_backends.h"
#include "store/sqlite_migrations.h"
#include "store/state_store.h"

namespace portcullis::store {
namespace {

using namespace std::chrono_literals;

const TimePoint kNow = TimePoint(std::chrono::milliseconds(1'700'000'000'123));

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "portcullis-store-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs one query on the file with a separate connection; returns the first column of each row.
std::vector<std::string> query(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::vector<std::string> rows;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      rows.emplace_back(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
  } else {
    ADD_FAILURE() << sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

ApiKeyRecord record(const std::string& name, const std::string& hash) {
  ApiKeyRecord r;
  r.name = name;
  r.key_hash = hash;
  r.groups = {"deploy", "read\"ers"};
  r.created_at = kNow;
  r.expires_at = kNow + 24h;
  return r;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = dir_.path() / "nested" / "var" / "state.db";
    auto opened = open_state_store("sqlite://" + file_.string());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  TempDir dir_;
  std::filesystem::path file_;
  std::unique_ptr<StateStore> store_;
};

// Each test on a new, empty store of the kind its parameter names.
class ApiKeyStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = testing::fresh_state_url(GetParam(), dir_);
    auto opened = open_state_store(url_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  testing::TempDir dir_{"portcullis-store-"};
  std::string url_;
  std::unique_ptr<StateStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Stores, ApiKeyStoreTest,
                         ::testing::ValuesIn(testing::state_store_backends()),
                         testing::backend_test_name);

TEST_F(SqliteStoreTest, CreatesTheDatabaseAndItsFolder) {
  EXPECT_TRUE(std::filesystem::exists(file_));
}

TEST_F(SqliteStoreTest, UsesWalJournalMode) {
  EXPECT_EQ(query(file_, "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
}

TEST_F(SqliteStoreTest, RecordsAppliedMigrations) {
  EXPECT_EQ(query(file_, "SELECT version FROM schema_migrations ORDER BY version"),
            (std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7"}));
  EXPECT_EQ(query(file_, "SELECT name FROM sqlite_master WHERE name = 'api_keys'"),
            std::vector<std::string>{"api_keys"});
  EXPECT_EQ(query(file_,
                  "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('reviews', "
                  "'review_votes', 'revocations') ORDER BY name"),
            (std::vector<std::string>{"review_votes", "reviews", "revocations"}));
  EXPECT_EQ(query(file_,
                  "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'audit_%' "
                  "ORDER BY name"),
            (std::vector<std::string>{"audit_checkpoints", "audit_events", "audit_probe",
                                      "audit_results"}));
}

TEST_F(SqliteStoreTest, MigrationsAreIdempotentWhenOpenedTwice) {
  ASSERT_TRUE(store_->insert_api_key(record("ci-bot", "h1")));
  auto second = open_state_store("sqlite://" + file_.string());
  ASSERT_TRUE(second) << second.error().message;
  auto third = open_state_store("sqlite://" + file_.string());
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(query(file_, "SELECT COUNT(*) FROM schema_migrations"), std::vector<std::string>{"7"});
  EXPECT_EQ((*third)->list_api_keys()->size(), 1u);
}

TEST_P(ApiKeyStoreTest, KeepsKeysWhenOpenedAgain) {
  ASSERT_TRUE(store_->insert_api_key(record("ci-bot", "h1")));
  auto second = open_state_store(url_);
  ASSERT_TRUE(second) << second.error().message;
  auto third = open_state_store(url_);
  ASSERT_TRUE(third) << third.error().message;
  auto listed = (*third)->list_api_keys();
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(SqliteStoreTest, MigrationVersionsAreAscendingFromOne) {
  int expected = 1;
  for (const auto& migration : sqlite_migrations()) EXPECT_EQ(migration.version, expected++);
}

TEST_F(SqliteStoreTest, RefusesDatabaseWithNewerSchema) {
  store_.reset();
  query(file_, "INSERT INTO schema_migrations VALUES (99, 'future', 0) RETURNING version");
  auto opened = open_state_store("sqlite://" + file_.string());
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("schema is version 99, newer than this portcullis knows"),
            std::string::npos);
}

TEST_P(ApiKeyStoreTest, InsertsAndFindsApiKeyByHash) {
  ASSERT_TRUE(store_->insert_api_key(record("ci-bot", "h1")));
  auto found = store_->find_api_key_by_hash("h1");
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  const ApiKeyRecord& r = **found;
  EXPECT_EQ(r.name, "ci-bot");
  EXPECT_EQ(r.groups, (std::vector<std::string>{"deploy", "read\"ers"}));
  EXPECT_EQ(r.created_at, kNow);  // millisecond precision survives
  EXPECT_EQ(r.expires_at, kNow + 24h);
  EXPECT_FALSE(r.last_used_at);
  EXPECT_FALSE(r.revoked);
  auto missing = store_->find_api_key_by_hash("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_P(ApiKeyStoreTest, KeepsKeyWithoutExpiry) {
  auto r = record("forever", "h1");
  r.expires_at.reset();
  ASSERT_TRUE(store_->insert_api_key(r));
  EXPECT_FALSE((*store_->find_api_key_by_hash("h1"))->expires_at);
}

TEST_P(ApiKeyStoreTest, RefusesDuplicateNameWithClearError) {
  ASSERT_TRUE(store_->insert_api_key(record("ci-bot", "h1")));
  auto again = store_->insert_api_key(record("ci-bot", "h2"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, "an API key named \"ci-bot\" already exists");
  // A clash of hashes is an error too, never a second row.
  EXPECT_FALSE(store_->insert_api_key(record("other", "h1")));
  EXPECT_EQ(store_->list_api_keys()->size(), 1u);
}

TEST_P(ApiKeyStoreTest, ListsKeysByName) {
  ASSERT_TRUE(store_->insert_api_key(record("zeta", "h1")));
  ASSERT_TRUE(store_->insert_api_key(record("alpha", "h2")));
  auto all = store_->list_api_keys();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alpha");
  EXPECT_EQ((*all)[1].name, "zeta");
}

TEST_P(ApiKeyStoreTest, RevokesExistingKeyAndReportsUnknownName) {
  ASSERT_TRUE(store_->insert_api_key(record("ci-bot", "h1")));
  auto revoked = store_->revoke_api_key("ci-bot");
  ASSERT_TRUE(revoked);
  EXPECT_TRUE(*revoked);
  EXPECT_TRUE((*store_->find_api_key_by_hash("h1"))->revoked);
  EXPECT_TRUE(*store_->revoke_api_key("ci-bot"));  // already revoked: still exists
  auto unknown = store_->revoke_api_key("nobody");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
}

TEST_P(ApiKeyStoreTest, TouchRecordsLatestUse) {
  ASSERT_TRUE(store_->insert_api_key(record("ci-bot", "h1")));
  ASSERT_TRUE(store_->touch_api_key("ci-bot", kNow + 1h));
  EXPECT_EQ((*store_->find_api_key_by_hash("h1"))->last_used_at, kNow + 1h);
  // An older use reported late never moves the time back.
  ASSERT_TRUE(store_->touch_api_key("ci-bot", kNow + 1min));
  EXPECT_EQ((*store_->find_api_key_by_hash("h1"))->last_used_at, kNow + 1h);
}

TEST_P(ApiKeyStoreTest, IsSafeToUseFromSeveralThreads) {
  ASSERT_TRUE(store_->insert_api_key(record("ci-bot", "h1")));
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!store_->touch_api_key("ci-bot", kNow + std::chrono::seconds(t * 1000 + i))) ++failures;
        auto found = store_->find_api_key_by_hash("h1");
        if (!found || !found->has_value()) ++failures;
      }
      auto r = record("bot-" + std::to_string(t), "hash-" + std::to_string(t));
      if (!store_->insert_api_key(r)) ++failures;
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(store_->list_api_keys()->size(), 5u);
}

TEST(OpenStateStore, RefusesRelativeSqlitePath) {
  auto opened = open_state_store("sqlite://var/state.db");
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("must name an absolute path"), std::string::npos);
}

TEST(OpenStateStore, RefusesUnknownScheme) {
  auto opened = open_state_store("redis://localhost");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().message,
            "unknown state store URL \"redis\" (expected sqlite:///path.db)");
}

TEST(OpenStateStore, ReportsUnwritableLocationClearly) {
  auto opened = open_state_store("sqlite:///proc/portcullis/state.db");
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("/proc/portcullis"), std::string::npos);
}

}  // namespace
}  // namespace portcullis::store
