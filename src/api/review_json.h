// Reviews and live sessions as the REST API shows them (docs/api.md), and what the API
// shares between the endpoints that change state: reading a JSON body, mapping a workflow
// error to its HTTP status, recording the request in the journal.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "api/endpoint.h"
#include "gateway/live_sessions.h"
#include "store/review_record.h"

namespace portcullis::api {

boost::json::object review_json(const store::ReviewRecord& review);

// Whether `caller` may see `review`: its requester, a reviewer it names, or a journal reader.
bool may_see_review(const store::ReviewRecord& review, const Call& call);
// review_json plus `may_decide`: whether the caller may vote on it now (a reviewer the rule
// names, not the requester, the review pending and not past its time, and no vote of the
// caller's yet), so that a console offers approve and reject only where the API would take them.
boost::json::object review_json_for(const store::ReviewRecord& review, const Call& call,
                                    std::chrono::system_clock::time_point now);
// The reviews of `status` (every status when nullopt) that the caller may see, newest first,
// at most 1000, as review_json_for.
Result<boost::json::array> visible_reviews(const Call& call,
                                           std::optional<store::ReviewStatus> status);
boost::json::object live_session_json(const gateway::LiveSessionView& session);

// The request's body as a JSON object (an empty body is an empty object), or a 400.
Result<boost::json::object> json_body(const Call& call);

// A review workflow error as the response its code calls for (not_found 404, forbidden 403,
// conflict 409, invalid 400, anything else 503).
Response workflow_error(const Error& error);

// A state-changing request, recorded as an `api` event: who did what to what.
void journal_request(const Call& call, std::string_view what, std::string_view target,
                     std::string_view outcome);

// 503 for endpoints whose part of the gateway is not running.
Response not_running(std::string_view what);

}  // namespace portcullis::api
