// Searching the journal as an auditor reads it: each statement with what came of it. A
// statement record is written before the statement runs and its result record when it
// completes; a search joins them, so that one hit says who ran what, the decision, and the
// rows, bytes, masking and error that followed.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "audit/record.h"
#include "common/result.h"
#include "store/journal_store.h"

namespace portcullis::audit {

struct SearchQuery {
  // Which records: an empty `event` means statements. after_seq, limit and newest_first are
  // the search's own business and are ignored here.
  store::JournalFilter filter;
  // 0: every match, oldest first. Otherwise the newest `limit` matches, still oldest first.
  std::size_t limit = 0;
};

struct SearchHit {
  Record record;                 // the record that matched
  std::optional<Record> result;  // for a statement: the result record that completes it
};

// Calls `visit` with every hit in seq order. Memory is bounded by `limit`, or by a page of
// records when there is none. Returns the number of hits.
Result<std::size_t> search_journal(store::JournalStore& store, const SearchQuery& query,
                                   const std::function<void(const SearchHit&)>& visit);

// The hit's record with the outcome fields (rows, bytes_in, bytes_out, masked, duration_us,
// error) that its result record holds copied in. Its hashes stay the statement record's.
Record joined_record(const SearchHit& hit);

// to_json(joined_record(hit)), plus "result_seq" naming the result record when there is one.
std::string search_hit_to_json(const SearchHit& hit);

}  // namespace portcullis::audit
