// JSON shapes of reviews and sessions; body parsing and error mapping for the review,
// session and revocation endpoints.
#include "api/review_json.h"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <chrono>

#include "api/request_bodies.h"
#include "audit/event.h"
#include "review/reviews.h"

namespace portcullis::api {
namespace {

boost::json::array string_array(const std::vector<std::string>& values) {
  boost::json::array array;
  for (const auto& value : values) array.emplace_back(value);
  return array;
}

void set_if(boost::json::object& object, std::string_view key, const std::string& value) {
  if (!value.empty()) object[key] = value;
}

}  // namespace

boost::json::object review_json(const store::ReviewRecord& review) {
  boost::json::object out;
  out["id"] = review.id;
  out["kind"] = store::to_string(review.kind);
  out["status"] = store::to_string(review.status);
  out["requester"] = review.requester;
  set_if(out, "protocol", review.protocol);
  set_if(out, "session", review.session);
  out["connection"] = review.connection;
  set_if(out, "command", review.command);
  out["rule"] = review.rule;
  out["reviewers"] = boost::json::object{{"groups", string_array(review.reviewer_groups)},
                                         {"subjects", string_array(review.reviewer_subjects)}};
  out["min_approvals"] = review.min_approvals;
  boost::json::array approvals;
  for (const auto& vote : review.votes) {
    if (!vote.approve) continue;
    boost::json::object v{{"reviewer", vote.reviewer}, {"time", audit::format_time(vote.time)}};
    set_if(v, "comment", vote.comment);
    approvals.push_back(std::move(v));
  }
  out["approvals"] = std::move(approvals);
  set_if(out, "decided_by", review.decided_by);
  set_if(out, "comment", review.comment);
  set_if(out, "reason", review.reason);
  if (review.kind == store::ReviewKind::access)
    out["duration_s"] = std::chrono::duration_cast<std::chrono::seconds>(review.duration).count();
  out["created"] = audit::format_time(review.created_at);
  out["expires"] = audit::format_time(review.expires_at);
  if (review.decided_at) out["decided"] = audit::format_time(*review.decided_at);
  if (review.grant_expires_at) out["grant_expires"] = audit::format_time(*review.grant_expires_at);
  if (review.executed_at) out["executed"] = audit::format_time(*review.executed_at);
  return out;
}

boost::json::object live_session_json(const gateway::LiveSessionView& session) {
  boost::json::object out;
  out["id"] = session.id;
  out["subject"] = session.subject;
  out["protocol"] = session.protocol;
  out["connection"] = session.connection;
  out["client_addr"] = session.client_addr;
  out["started"] = audit::format_time(session.started);
  out["commands"] = session.commands;
  out["bytes_in"] = session.bytes_in;
  out["bytes_out"] = session.bytes_out;
  set_if(out, "held_review", session.held_review);
  return out;
}

Result<boost::json::object> json_body(const Call& call) {
  return parse_json_object(call.request.body());
}

Response workflow_error(const Error& error) {
  auto status = http::status::service_unavailable;
  std::string_view code = "unavailable";
  if (error.code == "not_found") {
    status = http::status::not_found;
    code = "not_found";
  } else if (error.code == "forbidden") {
    status = http::status::forbidden;
    code = "forbidden";
  } else if (error.code == "conflict") {
    status = http::status::conflict;
    code = "conflict";
  } else if (error.code == "invalid") {
    status = http::status::bad_request;
    code = "bad_request";
  }
  return error_response(status, code, error.message);
}

void journal_request(const Call& call, std::string_view what, std::string_view target,
                     std::string_view outcome) {
  if (!call.services.journal || !call.caller) return;
  audit::Event event;
  event.event = std::string(audit::kEventApi);
  event.id = "api." + review::new_review_id().substr(2);
  event.time = std::chrono::system_clock::now();
  event.subject = call.caller->subject;
  event.subject_kind = std::string(identity::to_string(call.caller->kind));
  event.groups = call.caller->groups;
  event.auth = std::string(identity::to_string(call.caller->method));
  event.credential = call.caller->credential;
  event.protocol = "http";
  event.command = fmt::format("{} {}", std::string_view(call.request.method_string()), what);
  event.statement = std::string(target);
  event.verdict = std::string(outcome);
  call.services.journal->append(std::move(event));
}

Response not_running(std::string_view what) {
  return error_response(http::status::service_unavailable, "unavailable",
                        std::string(what) + " is not running on this gateway");
}

}  // namespace portcullis::api
