// Gateway tokens: EdDSA-signed JWTs issued by `portcullis token issue` and verified by the
// gateway itself. Claims: iss, sub, groups, kind, iat, nbf, exp, jti.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "identity/claims.h"
#include "identity/identity.h"
#include "identity/jwt.h"
#include "identity/signing_key.h"

namespace portcullis::identity {

struct TokenRequest {
  std::string subject;
  std::vector<std::string> groups;
  SubjectKind kind = SubjectKind::user;
  std::chrono::milliseconds ttl = std::chrono::hours(1);
};

// Longest subject or group name put in a token; a database user name is far shorter.
inline constexpr std::size_t kMaxNameLength = 256;

Result<Secret> issue_gateway_token(const SigningKey& key, std::string_view issuer,
                                   const TokenRequest& request, TimePoint now);

class GatewayTokenVerifier {
 public:
  GatewayTokenVerifier(SigningKey key, std::string issuer, std::chrono::milliseconds leeway)
      : key_(std::move(key)), issuer_(std::move(issuer)), leeway_(leeway) {}

  const std::string& issuer() const { return issuer_; }

  // Verifies a parsed token whose "iss" is this gateway: algorithm, key id, signature, then
  // claims. The subject is not compared with the startup user here.
  Result<Identity> verify(const Jwt& jwt, TimePoint now) const;

 private:
  SigningKey key_;
  std::string issuer_;
  std::chrono::milliseconds leeway_;
};

}  // namespace portcullis::identity
