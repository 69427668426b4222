// The JSON bodies of the REST API's state-changing requests, read apart from the handlers that
// act on them: pure, so that each can be tested and fuzzed on its own.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

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

}  // namespace portcullis::api
