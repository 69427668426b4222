// GET /api/v1/audit/verify: the whole journal checked as `portcullis audit verify --json` does,
// with the public half of the gateway's signing key. A journal that fails the check is still
// a 200: the request worked, and the report (`"ok": false`, `first_bad_seq`, `message`) is the
// answer; 500 means the journal could not be read at all.
#include <filesystem>
#include <string>

#include "api/endpoints.h"
#include "audit/verify.h"
#include "identity/signing_key.h"

namespace portcullis::api {

boost::asio::awaitable<std::optional<Response>> get_audit_verify(Call& call) {
  const std::filesystem::path key_file = call.context->config->identity.signing_key_file;
  const std::filesystem::path dir = call.context->config->audit.journal_dir;
  auto verify = [key_file, dir](store::JournalStore& index) -> Result<std::string> {
    auto key = identity::load_signing_key(key_file, /*create_if_missing=*/false);
    if (!key) return key.error();
    // The index may lag the segments by a moment: it must not be ahead of them.
    auto index_tail = index.tail();
    if (!index_tail) return index_tail.error();
    auto verified = audit::verify_segments(dir, key->pkey(), {}, index_tail->seq);
    if (!verified) return verified.error();
    return audit::verify_report_to_json(*verified);
  };
  auto verified = call.services.journal_reader->run(std::move(verify));
  auto report = co_await std::move(verified);
  if (!report)
    co_return error_response(http::status::internal_server_error, "journal_unavailable",
                             report.error().message);
  co_return json_response(http::status::ok, std::move(*report));
}

}  // namespace portcullis::api
