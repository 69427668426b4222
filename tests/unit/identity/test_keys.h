// Test material for identity/: real OpenSSL keys generated per run, JWKs built from them,
// tokens signed with any header and payload, and a temporary folder.
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <string>

#include "identity/jws.h"
#include "identity/openssl_ptr.h"

namespace portcullis::identity::testing {

EvpPkeyPtr generate_rsa_key(int bits = 2048);
EvpPkeyPtr generate_ec_p256_key();
EvpPkeyPtr generate_ed25519_key();

// Public JWKs (RFC 7517) for a key; `kid` empty: no "kid" member.
boost::json::object rsa_jwk(EVP_PKEY* key, const std::string& kid);
boost::json::object ec_jwk(EVP_PKEY* key, const std::string& kid);

// The PEM SubjectPublicKeyInfo of a key: what an attacker would use as an HMAC secret.
std::string public_key_pem(EVP_PKEY* key);

// A compact JWT with exactly this header and payload, signed by `key` with `algorithm`.
std::string sign_token(const boost::json::object& header, const boost::json::object& payload,
                       JwsAlgorithm algorithm, EVP_PKEY* key);

// A compact JWT signed with HMAC-SHA-256/384/512 (bits = 256, 384, 512) using `secret`.
std::string hmac_token(const boost::json::object& header, const boost::json::object& payload,
                       const std::string& secret, int bits);

// base64url(JSON) of an object, for building altered tokens.
std::string encode_part(const boost::json::object& object);

// The token with one bit of its signature flipped. Flipping a decoded bit, rather than
// overwriting encoded characters, cannot leave the signature as it was.
std::string with_altered_signature(const std::string& token);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace portcullis::identity::testing
