// Building the API's responses.
#include "api/response.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace portcullis::api {

Response make_response(http::status status, std::string body, std::string_view content_type) {
  Response response{status, 11};
  response.set(http::field::content_type, content_type);
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Response json_response(http::status status, std::string body) {
  return make_response(status, std::move(body), "application/json");
}

Response error_response(http::status status, std::string_view code, std::string_view message) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  boost::json::object document;
  document["error"] = std::move(error);
  return json_response(status, boost::json::serialize(document));
}

}  // namespace portcullis::api
