// The journal's index in a PostgreSQL store shared by several instances, against a real
// PostgreSQL server: each instance's chain apart (tail, scan, checkpoints, kept rows), every
// chain in one search with cursors that only grow in commit order, records read back byte for
// byte as written, and appends that are all or nothing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "state_store_backends.h"
#include "store/journal_store.h"

namespace portcullis::store {
namespace {

using testing::fresh_postgres_url;
using testing::shared_postgres_server;

// The records one instance's journal writes: seq from 1 on, chained by hash.
class Chain {
 public:
  explicit Chain(std::string instance) : instance_(std::move(instance)) {}

  JournalEntry next(std::string command, std::optional<std::string> results = {}) {
    const int64_t seq = ++seq_;
    JournalRecord record;
    record[Field::seq] = std::to_string(seq);
    record[Field::id] = fmt::format("{}.{}", instance_, seq);
    record[Field::time] = fmt::format("2026-12-07T10:00:{:02}.000000000Z", seq % 60);
    record[Field::instance] = instance_;
    record[Field::session] = instance_ + "-s1";
    record[Field::event] = "statement";
    record[Field::subject] = "alice";
    record[Field::connection] = "app-db";
    record[Field::protocol] = "postgres";
    record[Field::command] = std::move(command);
    record[Field::verdict] = "allow";
    record.prev_hash = last_hash_;
    record.hash = fmt::format("{:032x}{:032x}", std::hash<std::string>{}(instance_), seq);
    last_hash_ = record.hash;
    return JournalEntry{std::move(record), std::move(results)};
  }

 private:
  std::string instance_;
  int64_t seq_ = 0;
  std::string last_hash_ = std::string(64, '0');
};

std::unique_ptr<JournalStore> open_chain(const std::string& url, const std::string& instance,
                                         bool read_only = false) {
  JournalStoreOptions options;
  options.instance = instance;
  options.read_only = read_only;
  auto store = open_journal_store(url, options);
  EXPECT_TRUE(store) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

Result<void> append(JournalStore& store, std::vector<JournalEntry> entries,
                    std::vector<JournalCheckpoint> checkpoints = {}) {
  return store.append([&](const JournalTail&) -> Result<JournalBatch> {
    return JournalBatch{std::move(entries), std::move(checkpoints)};
  });
}

std::string seq_text(const JournalRecord& record) {
  return record[Field::seq].value_or("");
}

class PostgresJournalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { url_ = fresh_postgres_url(shared_postgres_server()); }
  std::string url_;
};

TEST_F(PostgresJournalStoreTest, EachInstanceAppendsAndReadsItsOwnChain) {
  auto a = open_chain(url_, "gw-a");
  auto b = open_chain(url_, "gw-b");
  ASSERT_TRUE(a && b);
  Chain chain_a("gw-a");
  Chain chain_b("gw-b");
  ASSERT_TRUE(append(*a, {chain_a.next("SELECT 1"), chain_a.next("SELECT 2", "[[\"x\"]]")}));
  ASSERT_TRUE(append(*b, {chain_b.next("SELECT 10")},
                     {JournalCheckpoint{1, "h", "2026-12-07T10:00:01Z", "gw-b", "k1", "sig"}}));
  ASSERT_TRUE(append(*a, {chain_a.next("SELECT 3")}));

  auto tail_a = a->tail();
  auto tail_b = b->tail();
  ASSERT_TRUE(tail_a && tail_b);
  EXPECT_EQ(tail_a->seq, 3);
  EXPECT_EQ(tail_b->seq, 1);

  std::vector<std::string> scanned;
  ASSERT_TRUE(a->scan(1, [&](const JournalEntry& entry) {
    scanned.push_back(*entry.record[Field::command]);
    if (seq_text(entry.record) == "2") {
      EXPECT_EQ(entry.results, "[[\"x\"]]");
    }
    return true;
  }));
  EXPECT_EQ(scanned, (std::vector<std::string>{"SELECT 1", "SELECT 2", "SELECT 3"}));

  auto checkpoints_a = a->checkpoints();
  auto checkpoints_b = b->checkpoints();
  ASSERT_TRUE(checkpoints_a && checkpoints_b);
  EXPECT_TRUE(checkpoints_a->empty());
  ASSERT_EQ(checkpoints_b->size(), 1u);
  EXPECT_EQ((*checkpoints_b)[0].signature, "sig");

  auto rows = a->result_rows(2);
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, "[[\"x\"]]");
  auto none = b->result_rows(2);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  auto instances = b->instances();
  ASSERT_TRUE(instances);
  EXPECT_EQ(*instances, (std::vector<std::string>{"gw-a", "gw-b"}));
}

TEST_F(PostgresJournalStoreTest, SearchSeesEveryChainInTheOrderTheStoreTookThem) {
  auto a = open_chain(url_, "gw-a");
  auto b = open_chain(url_, "gw-b");
  auto reader = open_chain(url_, "gw-c", /*read_only=*/true);
  ASSERT_TRUE(a && b && reader);
  Chain chain_a("gw-a");
  Chain chain_b("gw-b");
  ASSERT_TRUE(append(*a, {chain_a.next("a1"), chain_a.next("a2")}));
  ASSERT_TRUE(append(*b, {chain_b.next("b1")}));
  ASSERT_TRUE(append(*a, {chain_a.next("a3")}));
  ASSERT_TRUE(append(*b, {chain_b.next("b2")}));

  auto every = reader->search({});
  ASSERT_TRUE(every);
  std::vector<std::string> commands;
  std::vector<int64_t> cursors;
  for (const auto& record : *every) {
    commands.push_back(*record[Field::command]);
    cursors.push_back(record.cursor);
  }
  EXPECT_EQ(commands, (std::vector<std::string>{"a1", "a2", "b1", "a3", "b2"}));
  EXPECT_TRUE(std::is_sorted(cursors.begin(), cursors.end()));
  EXPECT_EQ(std::adjacent_find(cursors.begin(), cursors.end()), cursors.end());
  auto last = reader->last_cursor();
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, cursors.back());

  // A live tail: after a cursor, only what came later.
  JournalFilter after;
  after.after_cursor = cursors[2];
  auto later = reader->search(after);
  ASSERT_TRUE(later);
  ASSERT_EQ(later->size(), 2u);
  EXPECT_EQ(*(*later)[0][Field::command], "a3");

  // One instance's records; one chain followed by seq.
  JournalFilter of_b;
  of_b.instance = "gw-b";
  auto b_records = reader->search(of_b);
  ASSERT_TRUE(b_records);
  ASSERT_EQ(b_records->size(), 2u);
  JournalFilter own;
  own.own_chain = true;
  own.after_seq = 1;
  auto a_after_1 = a->search(own);
  ASSERT_TRUE(a_after_1);
  ASSERT_EQ(a_after_1->size(), 2u);
  EXPECT_EQ(*(*a_after_1)[0][Field::command], "a2");

  JournalFilter newest;
  newest.newest_first = true;
  newest.limit = 2;
  auto two = reader->search(newest);
  ASSERT_TRUE(two);
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ(*(*two)[0][Field::command], "b2");

  JournalFilter contains;
  contains.contains = "3";
  auto with_3 = reader->search(contains);
  ASSERT_TRUE(with_3);
  ASSERT_EQ(with_3->size(), 1u);
  EXPECT_EQ(*(*with_3)[0][Field::command], "a3");
}

// Verification hashes what the store gives back: every field must come back as written.
TEST_F(PostgresJournalStoreTest, RecordsReadBackByteForByte) {
  auto a = open_chain(url_, "gw-a");
  ASSERT_TRUE(a);
  Chain chain("gw-a");
  JournalEntry entry = chain.next("SELECT $1, 'é', E'\\x01'", "[[\"a\\tb\\\\\"],\n[null]]");
  JournalRecord& record = entry.record;
  record[Field::groups] = R"(["dba","engineering"])";
  record[Field::params] = R"(["42",null,"a\"b"])";
  record[Field::kinds] = R"(["select"])";
  record[Field::masked] = R"({"email":2})";
  record[Field::rows] = "0";
  record[Field::bytes_in] = "9007199254740993";
  record[Field::duration_us] = "17";
  // Every character COPY's text format escapes, and its NULL marker as text.
  record[Field::error] = "42501: permission denied\nDETAIL:\tx\r\\N \\. \\";
  // The field appended last, after prev_hash and hash among the columns.
  record[Field::credential] =
      "ssh_key k-7k3qx9p2m4ab SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
  const JournalRecord written = record;
  const std::optional<std::string> entry_results = entry.results;
  ASSERT_TRUE(append(*a, {std::move(entry)}));

  const std::optional<std::string> written_results = entry_results;
  std::optional<JournalRecord> read;
  std::optional<std::string> read_results;
  ASSERT_TRUE(a->scan(1, [&](const JournalEntry& e) {
    read = e.record;
    read_results = e.results;
    return false;
  }));
  EXPECT_EQ(read_results, written_results);
  ASSERT_TRUE(read);
  for (std::size_t i = 0; i < kFieldCount; ++i)
    EXPECT_EQ(read->fields[i], written.fields[i]) << field_info(static_cast<Field>(i)).name;
  EXPECT_EQ(read->prev_hash, written.prev_hash);
  EXPECT_EQ(read->hash, written.hash);
}

TEST_F(PostgresJournalStoreTest, AnAppendIsAllOrNothing) {
  auto a = open_chain(url_, "gw-a");
  ASSERT_TRUE(a);
  Chain chain("gw-a");
  ASSERT_TRUE(append(*a, {chain.next("one")}));
  // The batch's builder fails: nothing is written.
  EXPECT_FALSE(
      a->append([](const JournalTail&) -> Result<JournalBatch> { return make_error("refused"); }));
  // A row the store refuses (seq 1 again) takes the rest of its batch with it.
  Chain again("gw-a");
  EXPECT_FALSE(append(*a, {chain.next("two"), again.next("one again")}));
  auto tail = a->tail();
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->seq, 1);
  auto every = a->search({});
  ASSERT_TRUE(every);
  EXPECT_EQ(every->size(), 1u);
  // The store takes writes again afterwards.
  EXPECT_TRUE(a->probe());
}

// Two instances indexing at once: every record gets a cursor, cursors follow commit order
// (each chain's seqs grow with them), so a live tail reading past a cursor misses nothing.
TEST_F(PostgresJournalStoreTest, ConcurrentAppendsGetCursorsInCommitOrder) {
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 5;
  auto writer = [&](const std::string& instance) {
    auto store = open_chain(url_, instance);
    ASSERT_TRUE(store);
    Chain chain(instance);
    for (int b = 0; b < kBatches; ++b) {
      std::vector<JournalEntry> entries;
      for (int i = 0; i < kPerBatch; ++i) entries.push_back(chain.next("x"));
      ASSERT_TRUE(append(*store, std::move(entries)));
    }
  };
  auto reader = open_chain(url_, "reader");  // migrates the fresh database
  ASSERT_TRUE(reader);
  // A tail follows while they write, as the SSE stream does.
  std::vector<int64_t> followed;
  std::atomic<bool> done{false};
  std::thread tail([&] {
    JournalFilter filter;
    for (;;) {
      const bool last_round = done.load();
      auto page = reader->search(filter);
      ASSERT_TRUE(page);
      for (const auto& record : *page) followed.push_back(record.cursor);
      if (!page->empty()) filter.after_cursor = page->back().cursor;
      if (last_round) break;
    }
  });
  std::thread one(writer, "gw-a");
  std::thread two(writer, "gw-b");
  one.join();
  two.join();
  done = true;
  tail.join();

  auto every = reader->search({});
  ASSERT_TRUE(every);
  ASSERT_EQ(every->size(), static_cast<std::size_t>(2 * kBatches * kPerBatch));
  std::map<std::string, int64_t> last_seq;
  for (const auto& record : *every) {
    const int64_t seq = std::stoll(seq_text(record));
    EXPECT_EQ(seq, last_seq[*record[Field::instance]] + 1);
    last_seq[*record[Field::instance]] = seq;
  }
  EXPECT_EQ(followed.size(), every->size());
}

// Two instances given one name would append one chain twice over: the second is refused, and
// readers of the chain (search, verify, the API) are not.
TEST_F(PostgresJournalStoreTest, OneInstanceNameAppendsOneChainAtATime) {
  JournalStoreOptions options;
  options.instance = "gw-a";
  options.appends_chain = true;
  auto first = open_journal_store(url_, options);
  ASSERT_TRUE(first) << first.error().message;
  auto second = open_journal_store(url_, options);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("another gateway instance named \"gw-a\""),
            std::string::npos)
      << second.error().message;
  EXPECT_TRUE(open_chain(url_, "gw-a"));  // a reader
  options.instance = "gw-b";
  EXPECT_TRUE(open_journal_store(url_, options));
  // Free again once the first is gone.
  first->reset();
  options.instance = "gw-a";
  EXPECT_TRUE(open_journal_store(url_, options));
}

}  // namespace
}  // namespace portcullis::store
