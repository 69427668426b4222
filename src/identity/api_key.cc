// Creating and verifying service-account API keys against the state store.
#include "identity/api_key.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>

#include "identity/base64url.h"
#include "identity/subject.h"

namespace portcullis::identity {
namespace {

// PostgreSQL's NAMEDATALEN - 1: the key name is the startup user.
constexpr std::size_t kMaxApiKeyNameLength = 63;
// A key is 4 + 43 characters; anything else with the prefix is not one of ours.
constexpr std::size_t kApiKeyLength = kApiKeyPrefix.size() + (kApiKeyRandomBytes * 4 + 2) / 3;
// last_used_at is for account review (AC-2), not a log: writing it at most once a minute per
// key keeps authentication from turning into a disk write per connection.
constexpr auto kLastUsedResolution = std::chrono::minutes(1);

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '@';
}

}  // namespace

bool has_api_key_prefix(std::string_view credential) {
  return credential.substr(0, kApiKeyPrefix.size()) == kApiKeyPrefix;
}

std::string api_key_hash(std::string_view key) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest.data());
  std::string hex;
  hex.reserve(2 * digest.size());
  for (const unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

Result<void> validate_api_key_name(std::string_view name) {
  if (name.empty()) return make_error("the API key name is empty");
  if (name.size() > kMaxApiKeyNameLength)
    return make_error(
        fmt::format("the API key name is longer than {} characters", kMaxApiKeyNameLength));
  for (const char c : name)
    if (!is_name_char(c))
      return make_error("the API key name may contain only letters, digits, '.', '_', '-' and '@'");
  return {};
}

Result<Secret> create_api_key(store::StateStore& store, const ApiKeyRequest& request,
                              TimePoint now) {
  if (auto valid = validate_api_key_name(request.name); !valid) return valid.error();
  for (const auto& group : request.groups)
    if (group.empty()) return make_error("a group name is empty");
  if (request.ttl && *request.ttl <= std::chrono::milliseconds::zero())
    return make_error("the API key lifetime must be positive");

  std::array<unsigned char, kApiKeyRandomBytes> random{};
  if (RAND_bytes(random.data(), random.size()) != 1) return make_error("no random bytes available");
  Secret key(std::string(kApiKeyPrefix) +
             base64url_encode(
                 std::string_view(reinterpret_cast<const char*>(random.data()), random.size())));
  OPENSSL_cleanse(random.data(), random.size());

  store::ApiKeyRecord record;
  record.name = request.name;
  record.key_hash = api_key_hash(key.reveal());
  record.groups = request.groups;
  record.created_at = now;
  if (request.ttl) record.expires_at = now + *request.ttl;
  if (auto inserted = store.insert_api_key(record); !inserted) return inserted.error();
  return key;
}

Result<Identity> verify_api_key(store::StateStore& store, const Secret& key,
                                std::string_view claimed_subject, TimePoint now) {
  const std::string& text = key.reveal();
  if (text.size() != kApiKeyLength || !has_api_key_prefix(text) ||
      !base64url_decode(std::string_view(text).substr(kApiKeyPrefix.size())))
    return make_error("malformed API key");
  auto found = store.find_api_key_by_hash(api_key_hash(text));
  if (!found) return make_error("API keys cannot be checked right now (state store error)");
  if (!found->has_value()) return make_error("unknown API key");
  const store::ApiKeyRecord& record = **found;
  if (record.revoked) return make_error("API key revoked");
  if (record.expires_at && now >= *record.expires_at) return make_error("API key expired");
  // Names are checked when a key is made; a row written some other way is checked here too.
  if (auto valid = validate_subject(record.name, "API key name"); !valid) return valid.error();
  if (!claimed_subject.empty() && record.name != claimed_subject)
    return make_error(fmt::format("API key name {} does not match user {}",
                                  quote_untrusted(record.name), quote_untrusted(claimed_subject)));

  if (!record.last_used_at || now - *record.last_used_at >= kLastUsedResolution) {
    // Failing to record the use must not lock a service out; the store reports its own errors.
    (void)store.touch_api_key(record.name, now);
  }

  Identity identity;
  identity.subject = record.name;
  identity.kind = SubjectKind::service;
  identity.groups = record.groups;
  identity.method = AuthMethod::api_key;
  identity.issuer = std::string(kApiKeyIssuer);
  identity.token_id = record.name;
  identity.credential = "api_key " + record.name;  // the name, never the secret
  identity.expires_at = record.expires_at.value_or(TimePoint::max());
  identity.issued_at = record.created_at;
  return identity;
}

}  // namespace portcullis::identity
