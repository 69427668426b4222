// POST /api/v1/reload: reloads the configuration as SIGHUP does, on this instance and, with
// several instances sharing the state store, on every other. Admins only. The reload itself
// runs on the gateway's signal thread: 202 says it was asked for; the gateway's log says how
// it went (event=reloaded or event=reload_failed), as for SIGHUP.
#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/endpoints.h"
#include "api/review_json.h"

namespace portcullis::api {

boost::asio::awaitable<std::optional<Response>> post_reload(Call& call) {
  if (!call.services.reload) co_return not_running("configuration reloads");
  call.services.reload();
  boost::json::object out{{"reloading", true}};
  if (call.services.instances && call.services.instances->shared()) {
    auto told = call.services.instances->reload_elsewhere();
    if (!told) spdlog::error("event=reload_unsent error=\"{}\"", told.error().message);
    out["instances_told"] = told.ok();
  }
  journal_request(call, call.request.target(), "", "reload asked");
  co_return json_response(http::status::accepted, boost::json::serialize(out));
}

}  // namespace portcullis::api
