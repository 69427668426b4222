// `portcullis revoke --subject S`: through the REST API, every token of S stops working now
// and its live sessions are ended.
#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"

namespace portcullis::cli {
namespace {

namespace json = boost::json;

struct RevokeArgs {
  ApiOptions api;
  std::string subject;
  std::string reason;
};

void run_revoke(const RevokeArgs& args) {
  const ApiClient api = connect_api_or_exit(args.api);
  json::object body{{"subject", args.subject}};
  if (!args.reason.empty()) body["reason"] = args.reason;
  const json::value answer = answer_or_exit(api.post("/api/v1/revocations", body));
  const std::int64_t ended =
      answer.is_object() ? number_field(answer.as_object(), "sessions_ended") : 0;
  fmt::print("revoked {}; {} live session{} ended\n", printable(args.subject), ended,
             ended == 1 ? "" : "s");
}

}  // namespace

void add_revoke_command(CLI::App& app) {
  auto args = std::make_shared<RevokeArgs>();
  auto* revoke = app.add_subcommand(
      "revoke", "Revoke every token of a subject now and end its live sessions (REST API)");
  revoke->add_option("--subject", args->subject, "The subject to revoke")->required();
  revoke->add_option("--reason", args->reason, "Why: kept with the revocation and the journal");
  add_api_options(*revoke, args->api);
  revoke->callback([args] { run_revoke(*args); });
}

}  // namespace portcullis::cli
