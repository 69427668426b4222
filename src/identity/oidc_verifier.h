// Verification of JWTs from one configured OIDC issuer (RS256 / ES256, keys from its JWKS).
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"
#include "config/config.h"
#include "identity/claims.h"
#include "identity/identity.h"
#include "identity/jwks.h"
#include "identity/jwt.h"

namespace portcullis::identity {

class OidcVerifier {
 public:
  OidcVerifier(config::OidcIssuerConfig config, Jwks keys, std::chrono::milliseconds leeway)
      : config_(std::move(config)), keys_(std::move(keys)), leeway_(leeway) {}

  // Reads the issuer's JWKS file. A `jwks_url` (fetching keys over HTTPS) is not supported
  // yet and is refused here, at load time, with a clear error.
  static Result<OidcVerifier> load(const config::OidcIssuerConfig& config,
                                   std::chrono::milliseconds leeway);

  const std::string& issuer() const { return config_.issuer; }

  // Verifies a parsed token whose "iss" names this issuer: algorithm against the key's type,
  // signature, issuer, audience, exp/nbf/iat. Subject and groups come from the configured
  // claims. The subject is not compared with the startup user here.
  Result<Identity> verify(const Jwt& jwt, TimePoint now) const;

 private:
  config::OidcIssuerConfig config_;
  Jwks keys_;
  std::chrono::milliseconds leeway_;
};

}  // namespace portcullis::identity
