// Service-account API keys: "pcs_" followed by 32 random bytes in base64url. Only the
// SHA-256 of a key is stored; the key is shown once, when created.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "identity/claims.h"
#include "identity/identity.h"
#include "store/state_store.h"

namespace portcullis::identity {

// Recognisable in logs, configs and secret scanners; cannot begin a JWT (those start "eyJ").
inline constexpr std::string_view kApiKeyPrefix = "pcs_";
// 256 bits of randomness: far beyond guessing, so one unsalted SHA-256 is a safe digest.
inline constexpr std::size_t kApiKeyRandomBytes = 32;
// The `issuer` of API-key identities.
inline constexpr std::string_view kApiKeyIssuer = "apikey";

bool has_api_key_prefix(std::string_view credential);

// Hex SHA-256 of the whole key, prefix included: what the store keeps.
std::string api_key_hash(std::string_view key);

// Names become the subject, so they follow database user names: 1 to 63 characters of
// letters, digits, '.', '_', '-' and '@'.
Result<void> validate_api_key_name(std::string_view name);

struct ApiKeyRequest {
  std::string name;
  std::vector<std::string> groups;
  std::optional<std::chrono::milliseconds> ttl;  // none: the key does not expire
};

// Creates a key, stores its hash and returns the key itself (shown once).
Result<Secret> create_api_key(store::StateStore& store, const ApiKeyRequest& request,
                              TimePoint now);

// Looks the key up by hash; refuses unknown, revoked and expired keys and a key whose name is
// not `claimed_subject` (the startup user; empty: any name); records the use only when all of that
// passed.
Result<Identity> verify_api_key(store::StateStore& store, const Secret& key,
                                std::string_view claimed_subject, TimePoint now);

}  // namespace portcullis::identity
