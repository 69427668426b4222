// Reviews and live sessions as the REST API shows them (docs/api.md), and what the API
// shares between the endpoints that change state: reading a JSON body, mapping a workflow
// error to its HTTP status, recording the request in the journal.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/endpoint.h"
#include "gateway/live_sessions.h"
#include "store/review_record.h"

namespace portcullis::api {

boost::json::object review_json(const store::ReviewRecord& review);
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
