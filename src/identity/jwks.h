// A JSON Web Key Set (RFC 7517) of an OIDC issuer: the RSA and EC P-256 public keys its
// tokens may be signed with, by key id.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "identity/jws.h"
#include "identity/openssl_ptr.h"

namespace portcullis::identity {

struct Jwk {
  std::optional<std::string> kid;
  JwsAlgorithm algorithm;  // what this key verifies: RS256 (RSA) or ES256 (EC P-256)
  SharedPkey key;
};

class Jwks {
 public:
  // Keys that cannot verify an accepted algorithm (encryption keys, other curves or key
  // types, a JWK "alg" other than RS256/ES256) are skipped; a set left with no key, a
  // malformed key or an RSA key shorter than 2048 bits is an error.
  static Result<Jwks> parse(std::string_view json);
  static Result<Jwks> load_file(const std::filesystem::path& file);

  const std::vector<Jwk>& keys() const { return keys_; }

  // The key a token names by `kid`. A token without kid is accepted only when the set holds
  // exactly one key.
  Result<const Jwk*> find(const std::optional<std::string>& kid) const;

 private:
  std::vector<Jwk> keys_;
};

}  // namespace portcullis::identity
