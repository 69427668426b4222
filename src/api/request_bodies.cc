// Reading the REST API's JSON request bodies.
#include "api/request_bodies.h"

#include <boost/json/parse.hpp>
#include <optional>

#include "config/units.h"

namespace portcullis::api {

Result<boost::json::object> parse_json_object(std::string_view body) {
  if (body.empty()) return boost::json::object{};
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) return make_error("the request body must be a JSON object");
  return std::move(value.as_object());
}

Result<VoteBody> parse_vote_body(std::string_view body) {
  auto object = parse_json_object(body);
  if (!object) return object.error();
  VoteBody out;
  if (const auto* value = object->if_contains("comment")) {
    if (!value->is_string()) return make_error("\"comment\" must be a string");
    out.comment = value->as_string();
  }
  return out;
}

Result<AccessRequestBody> parse_access_request_body(std::string_view body) {
  auto object = parse_json_object(body);
  if (!object) return object.error();
  auto text = [&](std::string_view key) -> std::optional<std::string> {
    const auto* value = object->if_contains(key);
    if (value == nullptr || !value->is_string()) return std::nullopt;
    return std::string(value->as_string());
  };
  auto connection = text("connection");
  auto duration = text("duration");
  auto reason = text("reason");
  if (!connection || !duration || !reason)
    return make_error(
        "\"connection\", \"duration\" (e.g. \"30m\") and \"reason\" are required strings");
  auto parsed = config::parse_duration(*duration);
  if (!parsed) return make_error("duration: " + parsed.error().message);
  AccessRequestBody out;
  out.connection = std::move(*connection);
  out.duration = *parsed;
  out.reason = std::move(*reason);
  return out;
}

Result<RevocationBody> parse_revocation_body(std::string_view body) {
  auto object = parse_json_object(body);
  if (!object) return object.error();
  const auto* subject = object->if_contains("subject");
  if (subject == nullptr || !subject->is_string() || subject->as_string().empty())
    return make_error("\"subject\" is required (a non-empty string)");
  RevocationBody out;
  out.subject = subject->as_string();
  if (const auto* value = object->if_contains("reason"); value != nullptr && value->is_string())
    out.reason = value->as_string();
  return out;
}

Result<SshCertificateBody> parse_ssh_certificate_body(std::string_view body) {
  auto object = parse_json_object(body);
  if (!object) return object.error();
  const auto* key = object->if_contains("public_key");
  if (key == nullptr || !key->is_string() || key->as_string().empty())
    return make_error("\"public_key\" is required (the line of a .pub file)");
  return SshCertificateBody{.public_key = std::string(key->as_string())};
}

}  // namespace portcullis::api
