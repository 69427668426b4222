// GET /api/v1/health. Open to anyone (load balancers and orchestrators probe it without a
// token), so it says nothing beyond ok or unavailable: the store's error may name files.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/endpoints.h"

namespace portcullis::api {

boost::asio::awaitable<std::optional<Response>> get_health(Call& call) {
  const bool audit_ok = call.services.journal && call.services.journal->healthy();
  // A shared store (several instances): reachable while its change feed listens. Without it
  // no new session gets in (revocations cannot be checked), so a load balancer should send
  // clients elsewhere.
  const bool state_ok = !call.services.instances || call.services.instances->listening();
  boost::json::object body;
  // The process answers: alive. Ready only while the journal takes writes, because the gateway
  // refuses every command when it does not (fail closed).
  body["status"] = "ok";
  body["audit"] = audit_ok ? "ok" : "unavailable";
  if (call.services.instances && call.services.instances->shared())
    body["state"] = state_ok ? "ok" : "unavailable";
  const bool ready = audit_ok && state_ok;
  co_return json_response(ready ? http::status::ok : http::status::service_unavailable,
                          boost::json::serialize(body));
}

}  // namespace portcullis::api
