// GET /api/v1/audit/verify: the whole journal checked as `portcullis audit verify --json` does,
// with the public half of the gateway's signing key. A journal that fails the check is still
// a 200: the request worked, and the report (`"ok": false`, `first_bad_seq`, `message`) is the
// answer; 500 means the journal could not be read at all. With several instances sharing a
// PostgreSQL store, the other instances' chains are checked from the store too, each an object
// in `instances` (with its `instance`), and `ok` is false when any fails.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <string>

#include "api/endpoints.h"
#include "audit/verify.h"
#include "identity/signing_key.h"

namespace portcullis::api {

boost::asio::awaitable<std::optional<Response>> get_audit_verify(Call& call) {
  const std::filesystem::path key_file = call.context->config->identity.signing_key_file;
  const std::filesystem::path dir = call.context->config->audit.journal_dir;
  const std::string state_url = call.context->config->state_url;
  const std::string self = call.context->config->instance;
  auto verify = [key_file, dir, state_url,
                 self](store::JournalStore& index) -> Result<std::string> {
    auto key = identity::load_signing_key(key_file, /*create_if_missing=*/false);
    if (!key) return key.error();
    // The index may lag the segments by a moment: it must not be ahead of them.
    auto index_tail = index.tail();
    if (!index_tail) return index_tail.error();
    auto verified = audit::verify_segments(dir, key->pkey(), {}, index_tail->seq);
    if (!verified) return verified.error();
    auto instances = index.instances();
    if (!instances) return instances.error();
    auto report = boost::json::parse(audit::verify_report_to_json(*verified)).as_object();
    boost::json::array others;
    for (const auto& instance : *instances) {
      if (instance == self) continue;
      store::JournalStoreOptions options;
      options.instance = instance;
      options.read_only = true;
      auto chain = store::open_journal_store(state_url, options);
      if (!chain) return chain.error();
      auto checked = audit::verify_journal(**chain, key->pkey());
      if (!checked) return checked.error();
      if (!checked->ok) report["ok"] = false;
      auto other = boost::json::parse(audit::verify_report_to_json(*checked)).as_object();
      other["instance"] = instance;
      others.push_back(std::move(other));
    }
    if (!others.empty()) report["instances"] = std::move(others);
    return boost::json::serialize(report);
  };
  auto verified = call.services.journal_reader->run(std::move(verify));
  auto report = co_await std::move(verified);
  if (!report)
    co_return error_response(http::status::internal_server_error, "journal_unavailable",
                             report.error().message);
  co_return json_response(http::status::ok, std::move(*report));
}

}  // namespace portcullis::api
