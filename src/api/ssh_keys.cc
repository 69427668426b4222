// SSH public keys registered to subjects (#17): service accounts log in to the SSH listener
// with a key of their own. Admins register, list and remove them; the public key is no
// secret, so the listing shows it whole.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>

#include "api/endpoints.h"
#include "api/request_bodies.h"
#include "api/review_json.h"
#include "audit/event.h"
#include "identity/registered_ssh_keys.h"

namespace portcullis::api {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

json::value optional_time(const std::optional<store::TimePoint>& time) {
  if (!time) return nullptr;
  return json::value(audit::format_time(*time));
}

json::object ssh_key_json(const store::SshKeyRecord& key) {
  json::array groups;
  for (const auto& group : key.groups) groups.emplace_back(group);
  return json::object{{"id", key.id},
                      {"subject", key.subject},
                      {"groups", std::move(groups)},
                      {"public_key", key.public_key},
                      {"fingerprint", key.fingerprint},
                      {"created_at", audit::format_time(key.created_at)},
                      {"created_by", key.created_by},
                      {"expires_at", optional_time(key.expires_at)},
                      {"removed_at", optional_time(key.removed_at)},
                      {"removed_by", key.removed_at ? json::value(key.removed_by) : nullptr}};
}

// The store's own errors (with its file's path) go to the log, not to the caller.
Response store_unavailable(std::string_view event, const Error& error) {
  spdlog::error("event={} error=\"{}\"", event, error.message);
  return error_response(http::status::service_unavailable, "unavailable",
                        "the state store is unavailable (see the gateway's log)");
}

}  // namespace

boost::asio::awaitable<std::optional<Response>> post_ssh_key(Call& call) {
  if (!call.services.state) co_return not_running("the state store");
  auto body = parse_ssh_key_body(call.request.body());
  if (!body)
    co_return error_response(http::status::bad_request, "bad_request", body.error().message);
  const auto now = std::chrono::system_clock::now();
  identity::SshKeyRegistration registration;
  registration.subject = std::move(body->subject);
  registration.groups = std::move(body->groups);
  registration.public_key = std::move(body->public_key);
  registration.created_by = call.caller->subject;
  if (body->expires_in)
    registration.expires_at =
        now + std::chrono::duration_cast<std::chrono::system_clock::duration>(*body->expires_in);
  else
    registration.expires_at = body->expires_at;
  auto registered = identity::register_ssh_key(*call.services.state, registration, now);
  if (!registered) {
    const Error& error = registered.error();
    if (error.code != "invalid" && error.code != "conflict")
      co_return store_unavailable("ssh_key_register_failed", error);
    journal_request(call, call.request.target(), registration.subject, "refused: " + error.message);
    co_return workflow_error(error);
  }
  spdlog::info("event=ssh_key_registered id={} subject={:?} fingerprint={} by={:?} expires={}",
               registered->id, registered->subject, registered->fingerprint, registered->created_by,
               registered->expires_at ? audit::format_time(*registered->expires_at) : "never");
  journal_request(call, call.request.target(), registered->subject,
                  fmt::format("registered key {} {}", registered->id, registered->fingerprint));
  co_return json_response(http::status::created, json::serialize(ssh_key_json(*registered)));
}

boost::asio::awaitable<std::optional<Response>> get_ssh_keys(Call& call) {
  if (!call.services.state) co_return not_running("the state store");
  std::string subject;
  if (auto it = call.params.find("subject"); it != call.params.end()) {
    subject = (*it).value;
    if (subject.empty())
      co_return error_response(http::status::bad_request, "bad_request",
                               "subject must not be empty");
  }
  auto listed = call.services.state->list_ssh_keys(subject);
  if (!listed) co_return store_unavailable("ssh_key_list_failed", listed.error());
  json::array keys;
  for (const auto& key : *listed) keys.push_back(ssh_key_json(key));
  co_return json_response(http::status::ok, json::serialize(json::object{{"keys", keys}}));
}

boost::asio::awaitable<std::optional<Response>> delete_ssh_key(Call& call) {
  if (!call.services.state) co_return not_running("the state store");
  const std::string& id = call.path_params.at(0);
  auto removed = call.services.state->remove_ssh_key(id, std::chrono::system_clock::now(),
                                                     call.caller->subject);
  if (!removed) co_return store_unavailable("ssh_key_remove_failed", removed.error());
  journal_request(call, call.request.target(), id, *removed ? "removed" : "not found");
  if (!*removed)
    co_return error_response(http::status::not_found, "not_found",
                             "no SSH key in force with this id");
  spdlog::info("event=ssh_key_removed id={} by={:?}", id, call.caller->subject);
  co_return json_response(http::status::ok,
                          json::serialize(json::object{{"id", id}, {"removed", true}}));
}

}  // namespace portcullis::api
