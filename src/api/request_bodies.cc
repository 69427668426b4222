// Reading the REST API's JSON request bodies.
#include "api/request_bodies.h"

#include <boost/json/parse.hpp>
#include <optional>

#include "audit/since.h"
#include "config/units.h"

namespace portcullis::api {
namespace {

// Far beyond any key's useful life, and well inside the clock's range (about 292 years).
constexpr auto kLongestSshKeyLifetime = std::chrono::hours(24 * 36500);

}  // namespace

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

Result<SshKeyBody> parse_ssh_key_body(std::string_view body) {
  auto object = parse_json_object(body);
  if (!object) return object.error();
  const auto* subject = object->if_contains("subject");
  if (subject == nullptr || !subject->is_string() || subject->as_string().empty())
    return make_error("\"subject\" is required (a non-empty string)");
  const auto* key = object->if_contains("public_key");
  if (key == nullptr || !key->is_string() || key->as_string().empty())
    return make_error("\"public_key\" is required (the line of a .pub file)");
  SshKeyBody out;
  out.subject = subject->as_string();
  out.public_key = key->as_string();
  if (const auto* groups = object->if_contains("groups"); groups != nullptr) {
    if (!groups->is_array()) return make_error("\"groups\" must be an array of strings");
    for (const auto& group : groups->as_array()) {
      if (!group.is_string()) return make_error("\"groups\" must be an array of strings");
      out.groups.emplace_back(group.as_string());
    }
  }
  const auto* expires_in = object->if_contains("expires_in");
  const auto* expires_at = object->if_contains("expires_at");
  if (expires_in != nullptr && expires_at != nullptr)
    return make_error("give \"expires_in\" or \"expires_at\", not both");
  if (expires_in != nullptr) {
    if (!expires_in->is_string())
      return make_error("\"expires_in\" must be a duration such as \"30d\"");
    auto parsed = config::parse_duration(expires_in->as_string());
    if (!parsed) return make_error("expires_in: " + parsed.error().message);
    if (*parsed <= config::Duration::zero())
      return make_error("\"expires_in\" must be longer than zero");
    if (*parsed > kLongestSshKeyLifetime)
      return make_error("\"expires_in\" must be at most 100 years (36500d)");
    out.expires_in = *parsed;
  }
  if (expires_at != nullptr) {
    if (!expires_at->is_string())
      return make_error("\"expires_at\" must be an RFC 3339 time such as \"2027-01-01T00:00:00Z\"");
    auto parsed = audit::parse_time(expires_at->as_string());
    if (!parsed) return make_error("expires_at: " + parsed.error().message);
    out.expires_at = *parsed;
  }
  return out;
}

}  // namespace portcullis::api
