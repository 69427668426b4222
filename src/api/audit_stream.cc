// GET /api/v1/audit/stream: journal records as Server-Sent Events, as they are committed — the
// live view `portcullis audit tail --follow` gives on a terminal. Each event is one record,
// `id:` its cursor (the seq; with several instances, its place among every instance's records)
// and `data:` its JSON (the same as `audit export`), so that a client that reconnects with
// Last-Event-ID resumes where it stopped, without a gap.
#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "api/audit_query.h"
#include "api/endpoints.h"
#include "api/event_stream.h"
#include "api/roles.h"
#include "audit/record.h"

namespace portcullis::api {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// How often the stream looks for new records: the pace of `audit tail --follow`, well under
// the journal's batched-commit delay (100 ms) plus what a person watching notices.
constexpr std::chrono::milliseconds kPollInterval{200};
// Records read per poll: bounds memory when a stream starts far behind the tail.
constexpr std::size_t kPageSize = 1000;

// How long a new stream waits for this instance's committed records to reach the index.
constexpr std::chrono::milliseconds kIndexWait{500};

// The cursor (JournalRecord::cursor) a reconnecting client saw last, or nullopt when it sent none
// (or something else).
std::optional<std::int64_t> last_event_id(const Request& request) {
  const auto it = request.find("Last-Event-ID");
  if (it == request.end()) return std::nullopt;
  const std::string_view text = it->value();
  std::int64_t cursor = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cursor);
  if (ec != std::errc() || end != text.data() + text.size() || cursor < 0) return std::nullopt;
  return cursor;
}

}  // namespace

asio::awaitable<std::optional<Response>> get_audit_stream(Call& call) {
  auto query =
      parse_audit_query(call.params, /*accept_limit=*/false, std::chrono::system_clock::now());
  if (!query)
    co_return error_response(http::status::bad_request, "invalid_parameter", query.error().message);
  // Every record type unless `event` narrows it: statement and result records are committed
  // apart, so the stream cannot join them as a search does.
  store::JournalFilter filter = std::move(query->filter);
  filter.limit = kPageSize;
  JournalReader& reader = *call.services.journal_reader;

  // Where to start: after what a reconnecting client saw; from `since` when given; else after
  // the current tail, read before the response starts so that whatever the client sees
  // committed after it has the headers is in the stream.
  if (auto seen = last_event_id(call.request)) {
    filter.after_cursor = *seen;
  } else if (filter.since.empty()) {
    // The index follows the journal by a few milliseconds: what this instance's journal has
    // committed already is not "after" the stream opened either, so the end is read once the
    // index has it.
    audit::Journal* journal = call.services.journal.get();
    auto read_end = reader.run([journal](store::JournalStore& store) -> Result<int64_t> {
      if (journal != nullptr) journal->wait_indexed(kIndexWait);
      return store.last_cursor();
    });
    auto end = co_await std::move(read_end);
    if (!end)
      co_return error_response(http::status::internal_server_error, "journal_unavailable",
                               end.error().message);
    filter.after_cursor = *end;
  }

  const std::string header(kEventStreamHead);
  if (!co_await call.write(header)) co_return std::nullopt;
  const std::string keep_alive(kKeepAliveComment);
  StreamCaller caller(call);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto last_write = Clock::now();
  for (;;) {
    auto search = reader.run(
        [filter](store::JournalStore& store) -> Result<std::vector<store::JournalRecord>> {
          return store.search(filter);
        });
    auto records = co_await std::move(search);
    if (!records) {
      // The stream ends; a client reconnects with Last-Event-ID.
      const std::string error = error_event("journal_unavailable", records.error().message);
      co_await call.write(error);
      co_return std::nullopt;
    }
    if (!records->empty()) {
      std::string events;
      for (const auto& record : *records)
        events += fmt::format("id: {}\ndata: {}\n\n", record.cursor, audit::to_json(record));
      if (!co_await call.write(events)) co_return std::nullopt;
      filter.after_cursor = records->back().cursor;
      last_write = Clock::now();
      if (records->size() == kPageSize) continue;  // behind: read on at once
    }
    if (Clock::now() - last_write >= kKeepAliveInterval) {
      if (!co_await call.write(keep_alive)) co_return std::nullopt;
      last_write = Clock::now();
    }
    timer.expires_after(kPollInterval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    // A journal reader still: its credential good, and its groups still those of an auditor
    // or admin under the current configuration.
    auto refused = caller.recheck(call);
    if (!refused && !roles_of(*call.caller, call.context->config->api).may_read_journal())
      refused = "this needs a group listed in api.auditor_groups or api.admin_groups";
    if (refused) {
      const std::string error = error_event("unauthorized", *refused);
      co_await call.write(error);
      co_return std::nullopt;
    }
  }
}

}  // namespace portcullis::api
