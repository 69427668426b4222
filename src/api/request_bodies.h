// The JSON bodies of the REST API's state-changing requests, read apart from the handlers that
// act on them: pure, so that each can be tested and fuzzed on its own.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"

namespace portcullis::api {

// A request body as a JSON object; an empty body is an empty object.
Result<boost::json::object> parse_json_object(std::string_view body);

// POST /api/v1/reviews/{id}/approve and /reject: `{"comment": "..."}`, the comment optional.
struct VoteBody {
  std::string comment;
};
Result<VoteBody> parse_vote_body(std::string_view body);

// POST /api/v1/access-requests: `{"connection": ..., "duration": "30m", "reason": ...}`, all
// three required strings, the duration in the configuration's notation.
struct AccessRequestBody {
  std::string connection;
  config::Duration duration{0};
  std::string reason;
};
Result<AccessRequestBody> parse_access_request_body(std::string_view body);

// POST /api/v1/revocations: `{"subject": "...", "reason": "..."}`, the subject a non-empty
// string, the reason optional (anything but a string is no reason).
struct RevocationBody {
  std::string subject;
  std::string reason;
};
Result<RevocationBody> parse_revocation_body(std::string_view body);

// POST /api/v1/ssh/certificates: `{"public_key": "ssh-ed25519 AAAA... [comment]"}`, the line of
// a .pub file (its form is checked by the certificate authority).
struct SshCertificateBody {
  std::string public_key;
};
Result<SshCertificateBody> parse_ssh_certificate_body(std::string_view body);

// POST /api/v1/ssh/keys: `{"subject": ..., "groups": [...], "public_key": "TYPE BASE64
// [COMMENT]", "expires_in": "30d"}` or `"expires_at": "2027-01-01T00:00:00Z"` instead of
// `expires_in`. The subject and the key are required non-empty strings, groups an optional
// array of strings, the expiry optional (a duration in the configuration's notation, longer
// than zero, or an RFC 3339 time); the key's form is checked when it is registered.
struct SshKeyBody {
  std::string subject;
  std::vector<std::string> groups;
  std::string public_key;
  std::optional<config::Duration> expires_in;
  std::optional<std::chrono::system_clock::time_point> expires_at;
};
Result<SshKeyBody> parse_ssh_key_body(std::string_view body);

}  // namespace portcullis::api
