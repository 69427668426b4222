// libFuzzer target: arbitrary bytes as the JSON body of the REST API's state-changing
// requests (review approve/reject, access requests, revocations, SSH certificates and SSH key
// registrations), through the same parsers the handlers use (src/api/request_bodies.h).
// Invariants: a body is accepted only if it is empty or a JSON object, and then what came out
// is exactly what the object holds (the comment, the three access request fields with the
// duration as the configuration reads it, a non-empty subject, an SSH key's subject, key,
// groups and at most one expiry as the configuration and --since read them); the accepted
// values, written back as JSON, read back the same; a refusal is one of the fixed messages,
// never an echo.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/request_bodies.h"
#include "audit/since.h"
#include "config/units.h"

namespace {

using namespace portcullis;
namespace json = boost::json;

// The body as an independent reading sees it: nullopt unless empty or a JSON object.
std::optional<json::object> reference_object(std::string_view body) {
  if (body.empty()) return json::object{};
  boost::system::error_code ec;
  auto value = json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return value.as_object();
}

std::optional<std::string> string_member(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string(value->as_string());
}

void check_refusal(const Error& error) {
  if (error.message.empty() || error.message.size() > 512) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact copy, so that ASan catches a read one byte past the body.
  const std::string body(reinterpret_cast<const char*>(data), size);
  const auto object = reference_object(body);

  if (auto vote = api::parse_vote_body(body)) {
    if (!object) __builtin_trap();
    const auto* comment = object->if_contains("comment");
    if (comment != nullptr && (!comment->is_string() || comment->as_string() != vote->comment))
      __builtin_trap();
    if (comment == nullptr && !vote->comment.empty()) __builtin_trap();
    auto again = api::parse_vote_body(json::serialize(json::object{{"comment", vote->comment}}));
    if (!again || again->comment != vote->comment) __builtin_trap();
  } else {
    check_refusal(vote.error());
  }

  if (auto access = api::parse_access_request_body(body)) {
    if (!object) __builtin_trap();
    const auto connection = string_member(*object, "connection");
    const auto duration = string_member(*object, "duration");
    const auto reason = string_member(*object, "reason");
    if (!connection || !duration || !reason) __builtin_trap();
    if (*connection != access->connection || *reason != access->reason) __builtin_trap();
    const auto parsed = config::parse_duration(*duration);
    if (!parsed || *parsed != access->duration || access->duration.count() < 0) __builtin_trap();
    auto again = api::parse_access_request_body(json::serialize(json::object{
        {"connection", access->connection}, {"duration", *duration}, {"reason", access->reason}}));
    if (!again || again->connection != access->connection || again->duration != access->duration ||
        again->reason != access->reason)
      __builtin_trap();
  } else {
    check_refusal(access.error());
  }

  if (auto revocation = api::parse_revocation_body(body)) {
    if (!object) __builtin_trap();
    const auto subject = string_member(*object, "subject");
    if (!subject || subject->empty() || *subject != revocation->subject) __builtin_trap();
    if (string_member(*object, "reason").value_or("") != revocation->reason) __builtin_trap();
    auto again = api::parse_revocation_body(json::serialize(
        json::object{{"subject", revocation->subject}, {"reason", revocation->reason}}));
    if (!again || again->subject != revocation->subject || again->reason != revocation->reason)
      __builtin_trap();
  } else {
    check_refusal(revocation.error());
  }

  if (auto ssh = api::parse_ssh_certificate_body(body)) {
    if (!object) __builtin_trap();
    const auto key = string_member(*object, "public_key");
    if (!key || key->empty() || *key != ssh->public_key) __builtin_trap();
  } else {
    check_refusal(ssh.error());
  }

  if (auto key = api::parse_ssh_key_body(body)) {
    if (!object) __builtin_trap();
    const auto subject = string_member(*object, "subject");
    const auto line = string_member(*object, "public_key");
    if (!subject || subject->empty() || *subject != key->subject) __builtin_trap();
    if (!line || line->empty() || *line != key->public_key) __builtin_trap();
    std::vector<std::string> groups;
    if (const auto* listed = object->if_contains("groups")) {
      if (!listed->is_array()) __builtin_trap();
      for (const auto& group : listed->as_array()) {
        if (!group.is_string()) __builtin_trap();
        groups.emplace_back(group.as_string());
      }
    }
    if (groups != key->groups) __builtin_trap();
    const auto expires_in = string_member(*object, "expires_in");
    const auto expires_at = string_member(*object, "expires_at");
    if (key->expires_in && key->expires_at) __builtin_trap();
    if (expires_in.has_value() != key->expires_in.has_value() ||
        expires_at.has_value() != key->expires_at.has_value())
      __builtin_trap();
    if (expires_in) {
      const auto parsed = config::parse_duration(*expires_in);
      if (!parsed || *parsed != *key->expires_in || key->expires_in->count() <= 0) __builtin_trap();
    }
    if (expires_at) {
      const auto parsed = audit::parse_time(*expires_at);
      if (!parsed || *parsed != *key->expires_at) __builtin_trap();
    }
    json::array group_array;
    for (const auto& group : key->groups) group_array.emplace_back(group);
    json::object written{
        {"subject", key->subject}, {"public_key", key->public_key}, {"groups", group_array}};
    if (expires_in) written["expires_in"] = *expires_in;
    if (expires_at) written["expires_at"] = *expires_at;
    auto again = api::parse_ssh_key_body(json::serialize(written));
    if (!again || again->subject != key->subject || again->public_key != key->public_key ||
        again->groups != key->groups || again->expires_in != key->expires_in ||
        again->expires_at != key->expires_at)
      __builtin_trap();
  } else {
    check_refusal(key.error());
  }
  return 0;
}
