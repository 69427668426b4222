// One request to a gateway's REST API from a test: blocking, with a receive timeout so that a
// hang fails the test instead of stalling it.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>

namespace portcullis::testing {

struct ApiResponse {
  unsigned status = 0;      // 0: no answer (`text` says why)
  boost::json::value body;  // the JSON body, or the body as a JSON string when it is not JSON
  std::string text;         // the body as received
};

ApiResponse call_api(uint16_t port, boost::beast::http::verb method, const std::string& target,
                     const std::string& token, const std::string& body = {});

}  // namespace portcullis::testing
