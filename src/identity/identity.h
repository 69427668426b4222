// Identity: who a caller is, after its token was verified. The seam between identity/ and the
// protocol front ends; it holds no token or key.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::identity {

enum class SubjectKind { user, service };

enum class AuthMethod {
  gateway_token,  // EdDSA JWT signed by this gateway (`portcullis token issue`)
  oidc,           // RS256/ES256 JWT from a configured OIDC issuer
  api_key,        // service-account API key (`portcullis apikey create`)
  ssh_key,        // SSH public key registered to a subject (`portcullis ssh keys add`)
};

struct Identity {
  std::string subject;
  SubjectKind kind = SubjectKind::user;
  std::vector<std::string> groups;
  AuthMethod method = AuthMethod::gateway_token;
  std::string issuer;    // `iss` of a JWT; "apikey" for API keys, "ssh_key" for SSH keys
  std::string token_id;  // `jti`, the API key's name or the SSH key's id
  // Which credential logged in, as the audit journal names it: "ssh_key ID FINGERPRINT",
  // "ssh_certificate SERIAL KEY_ID", "api_key NAME", "jti JTI"; empty for a token without a
  // `jti`. Never the secret or the key itself (docs/audit.md).
  std::string credential;
  std::chrono::system_clock::time_point expires_at;
  // When the credential was issued (`iat`, the API key's creation); the epoch when the token
  // does not say, so that a revocation covers it.
  std::chrono::system_clock::time_point issued_at{};
};

inline std::string_view to_string(SubjectKind kind) {
  return kind == SubjectKind::service ? "service" : "user";
}

inline std::string_view to_string(AuthMethod method) {
  switch (method) {
    case AuthMethod::gateway_token:
      return "gateway_token";
    case AuthMethod::oidc:
      return "oidc";
    case AuthMethod::api_key:
      return "api_key";
    case AuthMethod::ssh_key:
      return "ssh_key";
  }
  return "unknown";
}

}  // namespace portcullis::identity
