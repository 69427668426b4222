// HTTP messages as the API builds them: JSON bodies, and errors in one shape,
// `{"error": {"code": "...", "message": "..."}}`, so that clients handle every refusal alike.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

namespace portcullis::api {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A response with `body` of `content_type`, never cached (journal contents and metrics change
// and may be sensitive).
Response make_response(http::status status, std::string body, std::string_view content_type);

Response json_response(http::status status, std::string body);

// `code` is a stable, machine-readable word (documented in docs/api.md); `message` is for a
// person and never holds a token.
Response error_response(http::status status, std::string_view code, std::string_view message);

}  // namespace portcullis::api
