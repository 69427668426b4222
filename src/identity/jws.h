// JWS signature algorithms the gateway accepts (RFC 7518 / RFC 8037): EdDSA for its own
// tokens, RS256 and ES256 for OIDC issuers. Everything else is refused by name.
#pragma once

#include <openssl/evp.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::identity {

enum class JwsAlgorithm { eddsa, rs256, es256 };

std::string_view to_string(JwsAlgorithm algorithm);

// The algorithm named by a token header, or the reason it is refused: "none" and the HMAC
// family (HS256/384/512) are refused outright, so that a public key can never be used as an
// HMAC secret; unknown names are refused too.
Result<JwsAlgorithm> accepted_algorithm(std::string_view alg);

// The algorithm a key can verify: Ed25519 → EdDSA, RSA → RS256, EC P-256 → ES256.
std::optional<JwsAlgorithm> algorithm_for_key(EVP_PKEY* key);

// A short description of a key's type for refusal reasons ("RSA", "EC P-256", "Ed25519").
std::string describe_key_type(EVP_PKEY* key);

// Verifies a JWS signature as it appears in the token (ES256: raw r||s, 64 bytes).
bool verify_jws_signature(JwsAlgorithm algorithm, EVP_PKEY* key, std::string_view signing_input,
                          std::string_view signature);

// Signs `signing_input` with a private key; the result is in JWS form (ES256: raw r||s).
Result<std::string> sign_jws(JwsAlgorithm algorithm, EVP_PKEY* key, std::string_view signing_input);

}  // namespace portcullis::identity
