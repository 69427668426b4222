// What only the PostgreSQL state store does, against real PostgreSQL servers: instances sharing
// one database, concurrent votes and migrations, an outage and recovery, and passwords kept out
// of messages. The behaviour both stores share is tested in the other store tests.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "state_store_backends.h"
#include "store/postgres_migrations.h"
#include "store/postgres_support.h"
#include "store/state_store.h"
#include "support/free_port.h"
#include "support/postgres_server.h"

namespace portcullis::store {
namespace {

using namespace std::chrono_literals;

const TimePoint kNow = TimePoint(std::chrono::milliseconds(1'700'000'000'123));

// How long a call may take to report an unreachable store: connection refused is immediate;
// anything near libpq's connect timeout (5 s) would mean the call hung.
constexpr auto kPromptFailure = 3s;

std::string database_of(const std::string& url) {
  return url.substr(url.rfind('/') + 1);
}

// Runs SQL as the superuser on the URL's database; psql's unaligned output, one row a line.
std::string psql(const testing::PostgresServer& server, const std::string& url,
                 std::string_view sql) {
  auto result = server.psql_superuser(sql, database_of(url));
  EXPECT_TRUE(result.ok()) << result.describe();
  return result.stdout_text;
}

ApiKeyRecord api_key(const std::string& name, const std::string& hash) {
  ApiKeyRecord r;
  r.name = name;
  r.key_hash = hash;
  r.groups = {"deploy"};
  r.created_at = kNow;
  return r;
}

ReviewRecord pending_review(std::string id, std::size_t min_approvals) {
  ReviewRecord r;
  r.id = std::move(id);
  r.requester = "alice";
  r.connection = "app-db";
  r.command = "DELETE FROM orders";
  r.rule = "unbounded-writes";
  r.reviewer_groups = {"dba"};
  r.min_approvals = min_approvals;
  r.created_at = kNow;
  r.expires_at = kNow + 24h;
  return r;
}

// Sets an environment variable for the life of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = testing::fresh_postgres_url(server());
    store_ = open(url_);
  }

  static testing::PostgresServer& server() { return testing::shared_postgres_server(); }

  static std::unique_ptr<StateStore> open(const std::string& url) {
    auto opened = open_state_store(url);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }

  // The state URL of the shared server's SCRAM role with another password, or none.
  std::string url_with_password(std::string_view password) const {
    const auto& role = server().scram_role();
    if (password.empty())
      return fmt::format("postgresql://{}@{}:{}/{}", role.name, server().host(), server().port(),
                         database_of(url_));
    return fmt::format("postgresql://{}:{}@{}:{}/{}", role.name, password, server().host(),
                       server().port(), database_of(url_));
  }

  std::string url_;
  std::unique_ptr<StateStore> store_;
};

TEST_F(PostgresStoreTest, RecordsAppliedMigrations) {
  EXPECT_EQ(psql(server(), url_, "SELECT version, name FROM schema_migrations ORDER BY version"),
            "1|create api_keys\n2|create reviews and revocations\n3|create ssh_keys\n"
            "4|create audit journal\n5|record the credential of each event\n");
  EXPECT_EQ(psql(server(), url_,
                 "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                 "ORDER BY table_name"),
            "api_keys\naudit_checkpoints\naudit_events\naudit_probe\naudit_results\nreview_votes\n"
            "reviews\nrevocations\nschema_migrations\nssh_keys\n");
}

TEST_F(PostgresStoreTest, MigrationVersionsAreAscendingFromOne) {
  int expected = 1;
  for (const auto& migration : postgres_migrations()) EXPECT_EQ(migration.version, expected++);
}

TEST_F(PostgresStoreTest, RefusesDatabaseWithNewerSchema) {
  store_.reset();
  psql(server(), url_, "INSERT INTO schema_migrations VALUES (99, 'future', 0)");
  auto opened = open_state_store(url_);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("schema is version 99, newer than this portcullis knows"),
            std::string::npos)
      << opened.error().message;
}

TEST_F(PostgresStoreTest, TwoStoresOnOneDatabaseSeeEachOthersWrites) {
  // The second under the other scheme name libpq accepts.
  auto other = open("postgres://" + url_.substr(url_.find("://") + 3));
  ASSERT_TRUE(other);

  ASSERT_TRUE(store_->insert_api_key(api_key("ci-bot", "h1")));
  auto found = other->find_api_key_by_hash("h1");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "ci-bot");
  ASSERT_TRUE(other->revoke_api_key("ci-bot"));
  EXPECT_TRUE((*store_->find_api_key_by_hash("h1"))->revoked);

  ASSERT_TRUE(other->insert_review(pending_review("r-shared", 1)));
  auto review = store_->find_review("r-shared");
  ASSERT_TRUE(review) << review.error().message;
  EXPECT_TRUE(review->has_value());

  ASSERT_TRUE(store_->upsert_revocation(RevocationRecord{"alice", kNow, "admin", "left"}));
  auto revocation = other->find_revocation("alice");
  ASSERT_TRUE(revocation && revocation->has_value());
  EXPECT_EQ((*revocation)->revoked_by, "admin");

  SshKeyRecord key{.id = "k-1",
                   .subject = "ci-bot",
                   .groups = {},
                   .public_key = "ssh-ed25519 AAAA",
                   .fingerprint = "SHA256:one",
                   .created_at = kNow,
                   .created_by = "admin",
                   .expires_at = {},
                   .removed_at = {},
                   .removed_by = {}};
  ASSERT_TRUE(store_->insert_ssh_key(key));
  key.id = "k-2";
  auto clash = other->insert_ssh_key(key);
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code, "conflict");
}

TEST_F(PostgresStoreTest, VotesCastAtOnceThroughTwoStoresAreAllKept) {
  constexpr int kThreadsPerStore = 2;
  constexpr int kVotesPerThread = 10;
  constexpr int kVotes = 2 * kThreadsPerStore * kVotesPerThread;
  ASSERT_TRUE(store_->insert_review(pending_review("r-busy", kVotes + 1)));
  auto other = open(url_);
  ASSERT_TRUE(other);

  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerStore; ++t) {
    StateStore* store = t % 2 == 0 ? store_.get() : other.get();
    threads.emplace_back([&, store, t] {
      for (int i = 0; i < kVotesPerThread; ++i) {
        const std::string reviewer = "reviewer-" + std::to_string(t) + "-" + std::to_string(i);
        auto updated = store->update_review("r-busy", [&](ReviewRecord& r) -> Result<void> {
          r.votes.push_back(ReviewVote{reviewer, true, "", kNow + std::chrono::milliseconds(i)});
          return {};
        });
        if (!updated) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);

  auto found = other->find_review("r-busy");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->votes.size(), static_cast<std::size_t>(kVotes));
}

TEST_F(PostgresStoreTest, FourInstancesOpeningAFreshDatabaseAtOnceMigrateItOnce) {
  const std::string fresh = testing::fresh_postgres_url(server());
  std::vector<std::thread> threads;
  std::vector<std::string> errors(4);
  for (std::size_t i = 0; i < errors.size(); ++i)
    threads.emplace_back([&, i] {
      auto opened = open_state_store(fresh);
      if (!opened) errors[i] = opened.error().message;
    });
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) EXPECT_EQ(error, "");
  EXPECT_EQ(psql(server(), fresh, "SELECT version FROM schema_migrations ORDER BY version"),
            "1\n2\n3\n4\n5\n");
}

TEST_F(PostgresStoreTest, ATerminatedConnectionIsReplacedByTheNextCall) {
  ASSERT_TRUE(store_->insert_api_key(api_key("ci-bot", "h1")));
  const std::string others =
      fmt::format("FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'portcullis'",
                  database_of(url_));
  EXPECT_EQ(psql(server(), url_, "SELECT count(pg_terminate_backend(pid)) " + others), "1\n");
  // Until the backend is gone, a write sent to it might be lost with it (and so not retried).
  for (int i = 0; i < 500 && psql(server(), url_, "SELECT count(*) " + others) != "0\n"; ++i)
    std::this_thread::sleep_for(10ms);

  auto touched = store_->touch_api_key("ci-bot", kNow + 1h);
  ASSERT_TRUE(touched) << touched.error().message;
  auto found = store_->find_api_key_by_hash("h1");
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->last_used_at, kNow + 1h);
}

TEST_F(PostgresStoreTest, AVoteWhoseConnectionIsLostBeforeItsCommitRunsAgain) {
  ASSERT_TRUE(store_->insert_review(pending_review("r-held", 2)));
  // Another session holds the review's row, so that the vote waits in SELECT ... FOR UPDATE,
  // sent and unanswered, while its connection is terminated.
  std::thread holder([&] {
    psql(server(), url_,
         "BEGIN; SELECT id FROM reviews WHERE id = 'r-held' FOR UPDATE; "
         "SELECT pg_sleep(2); COMMIT;");
  });
  const std::string waiting = fmt::format(
      "FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'portcullis' "
      "AND wait_event_type = 'Lock'",
      database_of(url_));
  std::atomic<int> changes = 0;
  std::thread voter([&] {
    // Until the holder has the row, the vote could take it first.
    for (int i = 0; i < 500 && psql(server(), url_,
                                    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a "
                                    "USING (pid) WHERE a.application_name = 'psql' AND "
                                    "l.locktype = 'transactionid'") == "0\n";
         ++i)
      std::this_thread::sleep_for(10ms);
    auto updated = store_->update_review("r-held", [&](ReviewRecord& r) -> Result<void> {
      ++changes;
      r.votes.push_back(ReviewVote{"bob", true, "", kNow});
      return {};
    });
    EXPECT_TRUE(updated) << updated.error().message;
  });
  bool terminated = false;
  for (int i = 0; i < 500 && !terminated; ++i) {
    terminated =
        psql(server(), url_, "SELECT count(pg_terminate_backend(pid)) " + waiting) == "1\n";
    if (!terminated) std::this_thread::sleep_for(10ms);
  }
  holder.join();
  voter.join();
  EXPECT_TRUE(terminated);
  // The change ran only once the row was locked, on the new connection; one vote is stored.
  EXPECT_EQ(changes, 1);
  auto found = store_->find_review("r-held");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->votes.size(), 1u);
}

TEST_F(PostgresStoreTest, ACallDuringAnOutageFailsAtOnceAndTheStoreRecoversAfterIt) {
  // A server of its own: the others' tests must not see it stop.
  testing::PostgresServer own;
  const std::string url = testing::fresh_postgres_url(own);
  auto store = open(url);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->insert_api_key(api_key("ci-bot", "h1")));

  own.stop();
  auto started = std::chrono::steady_clock::now();
  auto found = store->find_api_key_by_hash("h1");
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().code, "unavailable") << found.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, kPromptFailure);
  EXPECT_EQ(found.error().message.find(own.scram_role().password), std::string::npos);

  started = std::chrono::steady_clock::now();
  auto inserted = store->insert_api_key(api_key("during-outage", "h2"));
  ASSERT_FALSE(inserted);
  EXPECT_EQ(inserted.error().code, "unavailable") << inserted.error().message;
  auto voted = store->update_review("r-any", [](ReviewRecord&) -> Result<void> { return {}; });
  ASSERT_FALSE(voted);
  EXPECT_EQ(voted.error().code, "unavailable") << voted.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, kPromptFailure);

  own.start();
  auto again = store->find_api_key_by_hash("h1");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->has_value());
  auto after = store->insert_api_key(api_key("after-outage", "h3"));
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(store->list_api_keys()->size(), 2u);
}

TEST_F(PostgresStoreTest, AWrongPasswordIsRefusedWithoutRepeatingIt) {
  const std::string wrong = "wrong-secret-4711";
  auto opened = open_state_store(url_with_password(wrong));
  ASSERT_FALSE(opened);
  const std::string& message = opened.error().message;
  EXPECT_EQ(message.find(wrong), std::string::npos) << message;
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_NE(message.find(":***@"), std::string::npos) << message;

  ScopedEnv env(kStatePasswordVariable, "wrong-env-secret-0815");
  auto from_env = open_state_store(url_with_password(""));
  ASSERT_FALSE(from_env);
  EXPECT_EQ(from_env.error().message.find("wrong-env-secret-0815"), std::string::npos)
      << from_env.error().message;
  EXPECT_NE(from_env.error().message.find("password authentication failed"), std::string::npos)
      << from_env.error().message;
}

TEST_F(PostgresStoreTest, TakesThePasswordFromTheEnvironmentWhenTheUrlHasNone) {
  ScopedEnv env(kStatePasswordVariable, server().scram_role().password);
  auto opened = open_state_store(url_with_password(""));
  ASSERT_TRUE(opened) << opened.error().message;
  // A password in the URL wins over the environment's.
  ScopedEnv wrong(kStatePasswordVariable, "not-this-one");
  auto with_url_password = open_state_store(url_);
  ASSERT_TRUE(with_url_password) << with_url_password.error().message;
}

TEST(OpenPostgresStore, AnUnreachableServerIsUnavailableAtOnce) {
  const auto started = std::chrono::steady_clock::now();
  auto opened = open_state_store(fmt::format(
      "postgresql://portcullis:hunter2-secret@127.0.0.1:{}/state", testing::free_tcp_port()));
  ASSERT_FALSE(opened);
  EXPECT_LT(std::chrono::steady_clock::now() - started, kPromptFailure);
  EXPECT_EQ(opened.error().code, "unavailable");
  EXPECT_EQ(opened.error().message.find("hunter2-secret"), std::string::npos)
      << opened.error().message;
  EXPECT_NE(opened.error().message.find("postgresql://portcullis:***@127.0.0.1:"),
            std::string::npos)
      << opened.error().message;
}

TEST(RedactUrlPassword, HidesThePasswordOfTheUserInfo) {
  EXPECT_EQ(redact_url_password("postgresql://app:s3cr3t@db.internal:5432/state"),
            "postgresql://app:***@db.internal:5432/state");
  // Characters that should have been percent-encoded hide nothing of the password either.
  EXPECT_EQ(redact_url_password("postgres://app:p@ss@db/state"), "postgres://app:***@db/state");
  EXPECT_EQ(redact_url_password("postgres://app:p/ss@db/state"), "postgres://app:***@db/state");
}

TEST(RedactUrlPassword, HidesAPasswordParameter) {
  EXPECT_EQ(redact_url_password("postgresql://db/state?sslmode=require&password=s3cr3t&user=app"),
            "postgresql://db/state?sslmode=require&password=***&user=app");
  EXPECT_EQ(redact_url_password("postgresql://db/state?password=s3cr3t"),
            "postgresql://db/state?password=***");
}

TEST(RedactUrlPassword, LeavesAUrlWithoutPasswordAlone) {
  EXPECT_EQ(redact_url_password("postgresql://app@db/state"), "postgresql://app@db/state");
  EXPECT_EQ(redact_url_password("postgresql://db:5432/state"), "postgresql://db:5432/state");
  EXPECT_EQ(redact_url_password("postgresql:///state"), "postgresql:///state");
}

}  // namespace
}  // namespace portcullis::store
