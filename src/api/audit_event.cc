// GET /api/v1/audit/events/{cursor}: one journal record as a search shows it (a statement joined
// with its outcome), with the masked result rows kept for it (`audit.record_results`): what an
// auditor opens from a list of events.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "api/endpoints.h"
#include "audit/event.h"
#include "audit/search.h"

namespace portcullis::api {
namespace {

std::int64_t seq_of(const audit::Record& record) {
  std::int64_t seq = 0;
  if (const auto& text = record[audit::Field::seq])
    std::from_chars(text->data(), text->data() + text->size(), seq);
  return seq;
}

// The event and its kept rows as the response's JSON, or nullopt when no record has `cursor`.
// `own_chain`: the instance whose kept rows this store reads, or empty when the store holds one
// gateway's journal alone.
Result<std::optional<std::string>> read_event(store::JournalStore& store, std::int64_t cursor,
                                              const std::string& own_chain) {
  store::JournalFilter filter;
  filter.after_cursor = cursor - 1;
  filter.before_cursor = cursor + 1;
  filter.limit = 1;
  auto records = store.search(filter);
  if (!records) return records.error();
  if (records->empty()) return std::optional<std::string>();
  audit::SearchHit hit;
  hit.record = std::move(records->front());
  const auto& id = hit.record[audit::Field::id];
  if (hit.record[audit::Field::event] == audit::kEventStatement && id) {
    auto results = store.results_for({*id});
    if (!results) return results.error();
    if (!results->empty()) hit.result = std::move(results->front());
  }
  // Rows are kept beside the record that carries their results_sha256.
  std::optional<std::string> rows;
  for (const audit::Record* holder : {hit.result ? &*hit.result : nullptr, &hit.record}) {
    if (holder == nullptr || !(*holder)[audit::Field::results_sha256]) continue;
    // A store shared by several instances keeps each one's rows by (chain, seq), and reads this
    // instance's chain: another instance's seq would name another statement's rows here.
    if (!own_chain.empty() && (*holder)[audit::Field::instance] != own_chain) break;
    auto kept = store.result_rows(seq_of(*holder));
    if (!kept) return kept.error();
    rows = std::move(*kept);
    if (rows) break;
  }
  boost::json::object out;
  out["event"] = boost::json::parse(audit::search_hit_to_json(hit));
  out["results"] = rows ? boost::json::parse(*rows) : boost::json::value(nullptr);
  return std::optional<std::string>(boost::json::serialize(out));
}

}  // namespace

boost::asio::awaitable<std::optional<Response>> get_audit_event(Call& call) {
  const std::string& text = call.path_params.at(0);
  std::int64_t cursor = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cursor);
  // The largest cursor names nothing: no record can have one above it to bound the search by.
  if (ec != std::errc() || end != text.data() + text.size() || cursor <= 0 ||
      cursor == std::numeric_limits<std::int64_t>::max())
    co_return error_response(http::status::not_found, "not_found", "no such event");
  const bool shared = call.services.instances != nullptr && call.services.instances->shared();
  std::string own_chain = shared ? call.context->config->instance : std::string();
  auto read = call.services.journal_reader->run(
      [cursor, own_chain = std::move(own_chain)](store::JournalStore& store) {
        return read_event(store, cursor, own_chain);
      });
  auto found = co_await std::move(read);
  if (!found)
    co_return error_response(http::status::internal_server_error, "journal_unavailable",
                             found.error().message);
  if (!*found) co_return error_response(http::status::not_found, "not_found", "no such event");
  co_return json_response(http::status::ok, std::move(**found));
}

}  // namespace portcullis::api
