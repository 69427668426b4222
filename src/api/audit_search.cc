// GET /api/v1/audit: the journal searched as `portcullis audit search --json` does it — each
// statement joined with its outcome — as one JSON document, `{"events": [...]}`.
#include <chrono>
#include <string>

#include "api/audit_query.h"
#include "api/endpoints.h"
#include "audit/search.h"

namespace portcullis::api {

boost::asio::awaitable<std::optional<Response>> get_audit_search(Call& call) {
  auto query =
      parse_audit_query(call.params, /*accept_limit=*/true, std::chrono::system_clock::now());
  if (!query)
    co_return error_response(http::status::bad_request, "invalid_parameter", query.error().message);
  auto search = [query = std::move(*query)](store::JournalStore& store) -> Result<std::string> {
    std::string out = "{\"events\":[";
    bool first = true;
    auto hits = audit::search_journal(store, query, [&](const audit::SearchHit& hit) {
      if (!first) out += ',';
      first = false;
      out += audit::search_hit_to_json(hit);
    });
    if (!hits) return hits.error();
    out += "]}";
    return out;
  };
  auto searched = call.services.journal_reader->run(std::move(search));
  auto body = co_await std::move(searched);
  if (!body)
    co_return error_response(http::status::internal_server_error, "journal_unavailable",
                             body.error().message);
  co_return json_response(http::status::ok, std::move(*body));
}

}  // namespace portcullis::api
