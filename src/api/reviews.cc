// The approval workflow's endpoints: list and read reviews, approve or reject one, ask for
// just-in-time access. Any authenticated caller reaches them; what each caller may see and
// decide is the workflow's rule: reviewers named by the rule decide (never the requester),
// requesters see their own, admins and auditors see everything.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "api/endpoints.h"
#include "api/request_bodies.h"
#include "api/review_json.h"
#include "api/roles.h"

namespace portcullis::api {

bool may_see_review(const store::ReviewRecord& review, const Call& call) {
  const auto roles = roles_of(*call.caller, call.context->config->api);
  return roles.may_read_journal() || review.requester == call.caller->subject ||
         review::Reviews::may_decide(review, *call.caller);
}

boost::json::object review_json_for(const store::ReviewRecord& review, const Call& call,
                                    std::chrono::system_clock::time_point now) {
  auto out = review_json(review);
  const auto& caller = *call.caller;
  const bool voted = std::any_of(review.votes.begin(), review.votes.end(),
                                 [&](const auto& vote) { return vote.reviewer == caller.subject; });
  out["may_decide"] = review.status == store::ReviewStatus::pending && now < review.expires_at &&
                      !voted && review::Reviews::may_decide(review, caller);
  return out;
}

Result<boost::json::array> visible_reviews(const Call& call,
                                           std::optional<store::ReviewStatus> status) {
  auto listed = call.services.reviews->list(status, 1000);
  if (!listed) return listed.error();
  const auto now = std::chrono::system_clock::now();
  boost::json::array reviews;
  for (const auto& review : *listed)
    if (may_see_review(review, call)) reviews.push_back(review_json_for(review, call, now));
  return reviews;
}

namespace {

boost::asio::awaitable<std::optional<Response>> decide(Call& call, bool approve) {
  if (!call.services.reviews) co_return not_running("the approval workflow");
  auto body = parse_vote_body(call.request.body());
  if (!body)
    co_return error_response(http::status::bad_request, "bad_request", body.error().message);
  const std::string& id = call.path_params.at(0);
  auto decided = call.services.reviews->vote(id, *call.caller, approve, std::move(body->comment),
                                             std::chrono::system_clock::now());
  journal_request(call, call.request.target(), id,
                  decided ? (approve ? "approve" : "reject") : "refused: " + decided.error().code);
  if (!decided) co_return workflow_error(decided.error());
  co_return json_response(http::status::ok, boost::json::serialize(review_json_for(
                                                *decided, call, std::chrono::system_clock::now())));
}

}  // namespace

boost::asio::awaitable<std::optional<Response>> get_reviews(Call& call) {
  if (!call.services.reviews) co_return not_running("the approval workflow");
  std::optional<store::ReviewStatus> status;
  if (auto it = call.params.find("status"); it != call.params.end()) {
    status = store::parse_review_status((*it).value);
    if (!status)
      co_return error_response(
          http::status::bad_request, "bad_request",
          "status must be one of pending, approved, rejected, expired, executed");
  }
  auto reviews = visible_reviews(call, status);
  if (!reviews) co_return workflow_error(reviews.error());
  co_return json_response(
      http::status::ok,
      boost::json::serialize(boost::json::object{{"reviews", std::move(*reviews)}}));
}

boost::asio::awaitable<std::optional<Response>> get_review(Call& call) {
  if (!call.services.reviews) co_return not_running("the approval workflow");
  auto found = call.services.reviews->find(call.path_params.at(0));
  if (!found) co_return workflow_error(found.error());
  // Someone who may not see a review learns nothing of it, not even that it exists.
  if (!*found || !may_see_review(**found, call))
    co_return error_response(http::status::not_found, "not_found", "no such review");
  co_return json_response(http::status::ok, boost::json::serialize(review_json_for(
                                                **found, call, std::chrono::system_clock::now())));
}

boost::asio::awaitable<std::optional<Response>> post_review_approve(Call& call) {
  co_return co_await decide(call, true);
}

boost::asio::awaitable<std::optional<Response>> post_review_reject(Call& call) {
  co_return co_await decide(call, false);
}

boost::asio::awaitable<std::optional<Response>> post_access_request(Call& call) {
  if (!call.services.reviews) co_return not_running("the approval workflow");
  auto body = parse_access_request_body(call.request.body());
  if (!body)
    co_return error_response(http::status::bad_request, "bad_request", body.error().message);
  review::AccessRequest request;
  request.connection = std::move(body->connection);
  request.duration = body->duration;
  request.reason = std::move(body->reason);
  auto opened = call.services.reviews->request_access(*call.caller, request,
                                                      std::chrono::system_clock::now());
  journal_request(call, call.request.target(), opened ? opened->id : request.connection,
                  opened ? "requested" : "refused: " + opened.error().code);
  if (!opened) co_return workflow_error(opened.error());
  co_return json_response(
      http::status::created,
      boost::json::serialize(review_json_for(*opened, call, std::chrono::system_clock::now())));
}

}  // namespace portcullis::api
