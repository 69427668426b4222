// GET /api/v1/me: who the credential is and what the API lets it do, so that a client (the
// web console) shows the pages its caller can use. The endpoints still decide each request.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/endpoints.h"
#include "api/roles.h"

namespace portcullis::api {

boost::asio::awaitable<std::optional<Response>> get_me(Call& call) {
  const auto& caller = *call.caller;
  const Roles roles = roles_of(caller, call.context->config->api);
  boost::json::array groups;
  for (const auto& group : caller.groups) groups.emplace_back(group);
  boost::json::object out{
      {"subject", caller.subject},
      {"kind", identity::to_string(caller.kind)},
      {"groups", std::move(groups)},
      {"roles", boost::json::object{{"admin", roles.admin}, {"auditor", roles.auditor}}}};
  co_return json_response(http::status::ok, boost::json::serialize(out));
}

}  // namespace portcullis::api
