// audit search: filters, statements joined with their result records, limits and pages.
#include "audit/search.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "journal_fixture.h"

namespace portcullis::audit::testing {
namespace {

using namespace std::chrono_literals;
using Filter = store::JournalFilter;

// `filter` with one more condition.
Filter where(std::string Filter::*field, std::string value, Filter filter = {}) {
  filter.*field = std::move(value);
  return filter;
}

class SearchTest : public JournalFixture {
 protected:
  std::vector<SearchHit> search(const store::JournalFilter& filter, std::size_t limit = 0) {
    auto store = open_store();
    std::vector<SearchHit> hits;
    auto count = search_journal(*store, SearchQuery{filter, limit},
                                [&](const SearchHit& hit) { hits.push_back(hit); });
    EXPECT_TRUE(count) << count.error().message;
    if (count) {
      EXPECT_EQ(*count, hits.size());
    }
    return hits;
  }

  static std::vector<std::string> commands(const std::vector<SearchHit>& hits) {
    std::vector<std::string> out;
    for (const auto& hit : hits) out.push_back(hit.record[Field::command].value_or("-"));
    return out;
  }
};

TEST_F(SearchTest, JoinsEachStatementWithItsResult) {
  write_events(session_events({.statements = 3}));
  const auto hits = search({});
  ASSERT_EQ(hits.size(), 3u);
  for (std::size_t i = 0; i < hits.size(); ++i) {
    const auto k = std::to_string(i + 1);
    EXPECT_EQ(hits[i].record[Field::event], "statement");
    ASSERT_TRUE(hits[i].result);
    EXPECT_EQ((*hits[i].result)[Field::statement], hits[i].record[Field::id]);
    const Record joined = joined_record(hits[i]);
    EXPECT_EQ(joined[Field::command], "SELECT " + k + " FROM t" + k);
    EXPECT_EQ(joined[Field::rows], k);
    EXPECT_EQ(joined[Field::bytes_out], std::to_string(101 + i));
    EXPECT_EQ(joined[Field::masked], "{\"email\":" + k + "}");
    EXPECT_EQ(joined[Field::duration_us], k + "000");
    EXPECT_EQ(joined.hash, hits[i].record.hash);
  }
}

TEST_F(SearchTest, LeavesTheOutcomeEmptyForAStatementWithoutResult) {
  auto events = session_events({.statements = 2});
  // The second statement's result (events: connect, s1, r1, s2, r2, disconnect) never came:
  // the statement was denied, or the session ended while it ran.
  events.erase(events.begin() + 4);
  write_events(events);
  const auto hits = search({});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_TRUE(hits[0].result);
  EXPECT_FALSE(hits[1].result);
  EXPECT_FALSE(joined_record(hits[1])[Field::rows]);
}

TEST_F(SearchTest, FiltersBySubjectConnectionSessionVerdictAndText) {
  auto events = session_events({.session = "a", .subject = "alice", .statements = 3});
  for (auto& e : session_events({.session = "b",
                 .subject = "bob",
                 .connection = "billing",
                 .statements = 2,
                 .verdict = "deny"}))
    events.push_back(e);
  write_events(events);

  EXPECT_EQ(commands(search(where(&Filter::subject, "bob"))),
            (std::vector<std::string>{"SELECT 1 FROM t1", "SELECT 2 FROM t2"}));
  EXPECT_EQ(search(where(&Filter::connection, "billing")).size(), 2u);
  EXPECT_EQ(search(where(&Filter::connection, "app-db")).size(), 3u);
  EXPECT_EQ(search(where(&Filter::session, "a")).size(), 3u);
  EXPECT_EQ(search(where(&Filter::verdict, "deny")).size(), 2u);
  EXPECT_EQ(search(where(&Filter::verdict, "deny", where(&Filter::subject, "alice"))).size(), 0u);
  EXPECT_EQ(commands(search(where(&Filter::contains, "t3"))),
            (std::vector<std::string>{"SELECT 3 FROM t3"}));
  // Matched as written: '%' and '_' are no wildcards.
  EXPECT_EQ(search(where(&Filter::contains, "SELECT _")).size(), 0u);
}

TEST_F(SearchTest, FindsTextInBoundParameters) {
  auto events = session_events({.statements = 2});
  events[1].command = "SELECT * FROM users WHERE email = $1";
  events[1].params = std::vector<std::optional<std::string>>{std::string("carol@example.com")};
  write_events(events);
  EXPECT_EQ(commands(search(where(&Filter::contains, "carol@example"))),
            (std::vector<std::string>{"SELECT * FROM users WHERE email = $1"}));
}

TEST_F(SearchTest, FindsOtherEventsWhenAsked) {
  write_events(session_events({.statements = 2}));
  const auto connects = search(where(&Filter::event, "connect"));
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_FALSE(connects[0].result);
  EXPECT_EQ(search(where(&Filter::event, "result")).size(), 2u);
}

TEST_F(SearchTest, KeepsRecordsAtOrAfterSince) {
  const TimePoint start = TimePoint(std::chrono::seconds(1'790'000'000));
  auto events = session_events({.session = "early", .statements = 2, .start = start});
  for (auto& e : session_events({.session = "late", .statements = 2, .start = start + 1h}))
    events.push_back(e);
  write_events(events);
  const auto hits = search(where(&Filter::since, format_time(start + 30min)));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].record[Field::session], "late");
  // The bound is inclusive, to the nanosecond.
  EXPECT_EQ(search(where(&Filter::since, format_time(start + 10ms))).size(), 4u);
  EXPECT_EQ(search(where(&Filter::since, format_time(start + 11ms))).size(), 3u);
}

TEST_F(SearchTest, LimitKeepsTheNewestMatchesOldestFirst) {
  write_events(session_events({.statements = 5}));
  const auto hits = search({}, 2);
  EXPECT_EQ(commands(hits), (std::vector<std::string>{"SELECT 4 FROM t4", "SELECT 5 FROM t5"}));
  EXPECT_TRUE(hits[0].result);
  EXPECT_TRUE(hits[1].result);
}

TEST_F(SearchTest, ReturnsEveryMatchAcrossPagesInSeqOrder) {
  write_events(session_events({.statements = 1205}), 1000);
  const auto hits = search({});
  ASSERT_EQ(hits.size(), 1205u);
  std::int64_t previous = 0;
  for (const auto& hit : hits) {
    const std::int64_t seq = std::stoll(*hit.record[Field::seq]);
    EXPECT_GT(seq, previous);
    previous = seq;
    ASSERT_TRUE(hit.result) << seq;
  }
  EXPECT_EQ(hits.back().record[Field::command], "SELECT 1205 FROM t1205");
}

TEST_F(SearchTest, JsonHoldsTheOutcomeAndNamesTheResultRecord) {
  write_events(session_events({.statements = 1}));
  const auto hits = search({});
  ASSERT_EQ(hits.size(), 1u);
  const auto json = boost::json::parse(search_hit_to_json(hits[0])).as_object();
  EXPECT_EQ(json.at("seq").as_int64(), 2);
  EXPECT_EQ(json.at("event").as_string(), "statement");
  EXPECT_EQ(json.at("command").as_string(), "SELECT 1 FROM t1");
  EXPECT_EQ(json.at("rows").as_int64(), 1);
  EXPECT_EQ(json.at("bytes_out").as_int64(), 101);
  EXPECT_EQ(json.at("masked").as_object().at("email").as_int64(), 1);
  EXPECT_EQ(json.at("duration_us").as_int64(), 1000);
  EXPECT_EQ(json.at("result_seq").as_int64(), 3);
  EXPECT_EQ(json.at("hash").as_string(), hits[0].record.hash);
}

}  // namespace
}  // namespace portcullis::audit::testing
