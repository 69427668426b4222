// One request to a gateway's REST API from a test: blocking, with a receive timeout so that a
// hang fails the test instead of stalling it.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <string>

namespace portcullis::testing {

struct ApiResponse {
  unsigned status = 0;      // 0: no answer (`text` says why)
  boost::json::value body;  // the JSON body, or the body as a JSON string when it is not JSON
  std::string text;         // the body as received
  std::map<std::string, std::string> headers;  // by lower-case name
};

// `headers` are added to (or replace) the request's: Content-Type is application/json when
// there is a body, unless given here.
ApiResponse call_api(uint16_t port, boost::beast::http::verb method, const std::string& target,
                     const std::string& token, const std::string& body = {},
                     const std::map<std::string, std::string>& headers = {});

// The id of the pending review of `requester` whose command contains `text`, as the API on
// `port` shows it to `reviewer_token`; empty after 30 s.
std::string pending_review_id(uint16_t port, const std::string& reviewer_token,
                              const std::string& requester, const std::string& text);

}  // namespace portcullis::testing
