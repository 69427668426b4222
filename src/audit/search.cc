// Journal search: filtered records in pages, statements joined with their result records.
#include "audit/search.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <unordered_map>
#include <vector>

#include "audit/event.h"
#include "audit/record.h"

namespace portcullis::audit {
namespace {

// Records read per query when a search has no limit: bounds memory, and keeps each query
// (and its IN list of statement ids) short.
constexpr std::size_t kPageSize = 1000;

// What a result record adds to its statement.
constexpr Field kOutcomeFields[] = {Field::rows,   Field::bytes_in,    Field::bytes_out,
                                    Field::masked, Field::duration_us, Field::error};

Result<void> join_and_visit(store::JournalStore& store, std::vector<Record>& records,
                            const std::function<void(const SearchHit&)>& visit) {
  std::vector<std::string> ids;
  for (const auto& record : records)
    if (record[Field::event] == kEventStatement && record[Field::id])
      ids.push_back(*record[Field::id]);
  std::unordered_map<std::string, Record> results;
  if (!ids.empty()) {
    auto found = store.results_for(ids);
    if (!found) return found.error();
    // In seq order: should a statement have two result records, the first one counts.
    for (auto& result : *found)
      if (result[Field::statement]) results.emplace(*result[Field::statement], std::move(result));
  }
  SearchHit hit;
  for (auto& record : records) {
    hit.result.reset();
    if (record[Field::event] == kEventStatement && record[Field::id]) {
      auto it = results.find(*record[Field::id]);
      if (it != results.end()) hit.result = std::move(it->second);
    }
    hit.record = std::move(record);
    visit(hit);
  }
  return {};
}

}  // namespace

Result<std::size_t> search_journal(store::JournalStore& store, const SearchQuery& query,
                                   const std::function<void(const SearchHit&)>& visit) {
  store::JournalFilter filter = query.filter;
  if (filter.event.empty()) filter.event = kEventStatement;
  filter.after_cursor = 0;
  filter.after_seq = 0;
  if (query.limit > 0) {
    filter.limit = query.limit;
    filter.newest_first = true;
    auto records = store.search(filter);
    if (!records) return records.error();
    std::reverse(records->begin(), records->end());
    if (auto r = join_and_visit(store, *records, visit); !r) return r.error();
    return records->size();
  }
  filter.limit = kPageSize;
  filter.newest_first = false;
  std::size_t hits = 0;
  for (;;) {
    auto records = store.search(filter);
    if (!records) return records.error();
    if (records->empty()) break;
    hits += records->size();
    filter.after_cursor = records->back().cursor;
    const bool last_page = records->size() < kPageSize;
    if (auto r = join_and_visit(store, *records, visit); !r) return r.error();
    if (last_page) break;
  }
  return hits;
}

Record joined_record(const SearchHit& hit) {
  Record joined = hit.record;
  if (!hit.result) return joined;
  for (const Field field : kOutcomeFields)
    if ((*hit.result)[field]) joined[field] = (*hit.result)[field];
  return joined;
}

std::string search_hit_to_json(const SearchHit& hit) {
  boost::json::value value = boost::json::parse(to_json(joined_record(hit)));
  auto& object = value.as_object();
  // After the hashes, which to_json puts last: these belong to the search, not to the record.
  if (hit.result) {
    object["result_seq"] = seq_of(*hit.result);
    if (hit.result->cursor > 0) object["result_cursor"] = hit.result->cursor;
  }
  // Where the record stands among every instance's records: what `before` pages by.
  if (hit.record.cursor > 0) object["cursor"] = hit.record.cursor;
  return boost::json::serialize(value);
}

}  // namespace portcullis::audit
