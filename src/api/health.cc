// GET /api/v1/health. Open to anyone (load balancers and orchestrators probe it without a
// token), so it says nothing beyond ok or unavailable: the store's error may name files.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/endpoints.h"

namespace portcullis::api {

boost::asio::awaitable<std::optional<Response>> get_health(Call& call) {
  const bool audit_ok = call.services.journal && call.services.journal->healthy();
  boost::json::object body;
  // The process answers: alive. Ready only while the journal takes writes, because the gateway
  // refuses every command when it does not (fail closed).
  body["status"] = "ok";
  body["audit"] = audit_ok ? "ok" : "unavailable";
  co_return json_response(audit_ok ? http::status::ok : http::status::service_unavailable,
                          boost::json::serialize(body));
}

}  // namespace portcullis::api
