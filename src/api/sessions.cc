// Incident response: the live sessions, ending one, revoking a subject. Admins only. With
// several instances sharing the store, a session this instance does not serve is asked of the
// others, and a revocation ends the subject's sessions on every instance.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

#include "api/endpoints.h"
#include "api/request_bodies.h"
#include "api/review_json.h"
#include "audit/event.h"

namespace portcullis::api {

boost::asio::awaitable<std::optional<Response>> get_sessions(Call& call) {
  if (!call.services.live_sessions) co_return not_running("the session registry");
  boost::json::array sessions;
  for (const auto& session : call.services.live_sessions->list())
    sessions.push_back(live_session_json(session));
  co_return json_response(http::status::ok,
                          boost::json::serialize(boost::json::object{{"sessions", sessions}}));
}

boost::asio::awaitable<std::optional<Response>> post_session_kill(Call& call) {
  if (!call.services.live_sessions) co_return not_running("the session registry");
  const std::string& id = call.path_params.at(0);
  const bool ended = call.services.live_sessions->end(
      id, fmt::format("terminating connection: ended by {} through the REST API",
                      call.caller->subject));
  if (!ended && call.services.instances && call.services.instances->shared()) {
    // Another instance may serve it: the one that does ends it within a second.
    if (auto asked = call.services.instances->end_elsewhere(id); !asked) {
      journal_request(call, call.request.target(), id, "not found");
      co_return error_response(http::status::service_unavailable, "unavailable",
                               "the other instances cannot be reached: " + asked.error().message);
    }
    journal_request(call, call.request.target(), id, "asked of every instance");
    co_return json_response(http::status::accepted,
                            boost::json::serialize(boost::json::object{
                                {"id", id}, {"killed", false}, {"asked_instances", true}}));
  }
  journal_request(call, call.request.target(), id, ended ? "killed" : "not found");
  if (!ended) co_return error_response(http::status::not_found, "not_found", "no such session");
  co_return json_response(
      http::status::ok, boost::json::serialize(boost::json::object{{"id", id}, {"killed", true}}));
}

boost::asio::awaitable<std::optional<Response>> post_revocation(Call& call) {
  if (!call.services.state) co_return not_running("the state store");
  auto body = parse_revocation_body(call.request.body());
  if (!body)
    co_return error_response(http::status::bad_request, "bad_request", body.error().message);
  const std::string reason = body->reason;
  store::RevocationRecord revocation;
  revocation.subject = std::move(body->subject);
  revocation.revoked_at = std::chrono::system_clock::now();
  revocation.revoked_by = call.caller->subject;
  revocation.reason = reason;
  // Stored first: from here on the subject's credentials are refused, so nothing the
  // sessions ended below can reconnect with them.
  if (auto r = call.services.state->upsert_revocation(revocation); !r) {
    spdlog::error("event=revocation_failed subject={:?} error=\"{}\"", revocation.subject,
                  r.error().message);
    co_return error_response(http::status::service_unavailable, "unavailable",
                             "the revocation could not be stored (see the gateway's log)");
  }
  std::size_t ended = 0;
  if (call.services.live_sessions)
    ended = call.services.live_sessions->end_subject(
        revocation.subject,
        fmt::format("terminating connection: the credentials of {} were revoked",
                    revocation.subject));
  // The other instances end theirs (a missed word is made up for from the store when their
  // feed reconnects).
  bool told = false;
  if (call.services.instances && call.services.instances->shared()) {
    auto sent = call.services.instances->subject_revoked(revocation.subject);
    told = sent.ok();
    if (!sent)
      spdlog::error("event=revocation_unsent subject={:?} error=\"{}\"", revocation.subject,
                    sent.error().message);
  }
  spdlog::warn("event=subject_revoked subject={:?} by={:?} sessions_ended={} reason={:?}",
               revocation.subject, revocation.revoked_by, ended, reason);
  journal_request(call, call.request.target(), revocation.subject, "revoked");
  boost::json::object out{{"subject", revocation.subject},
                          {"revoked_at", audit::format_time(revocation.revoked_at)},
                          {"sessions_ended", ended}};
  if (call.services.instances && call.services.instances->shared()) out["instances_told"] = told;
  co_return json_response(http::status::ok, boost::json::serialize(out));
}

}  // namespace portcullis::api
