// Bearer authentication. The Authenticator binds a credential to the subject a PostgreSQL
// client names in its startup packet; an HTTP request names none, so the subject is read from
// the credential itself (unverified) and handed over as the claim: the Authenticator then
// verifies everything else, and a credential that is not what it claims fails there.
#include "api/bearer_auth.h"

#include <boost/algorithm/string/predicate.hpp>
#include <string>

#include "common/secret.h"
#include "identity/api_key.h"
#include "identity/claims.h"
#include "identity/jwt.h"

namespace portcullis::api {
namespace {

constexpr std::string_view kBearerScheme = "Bearer ";

// The subject `token` says it belongs to, or empty when it cannot tell (the Authenticator then
// gives the reason: unknown key, malformed token, untrusted issuer, ...).
std::string claimed_subject(const Secret& token, const config::Config& config,
                            store::StateStore& state) {
  const std::string& text = token.reveal();
  if (identity::has_api_key_prefix(text)) {
    // An API key's subject is its name, kept with its hash.
    auto found = state.find_api_key_by_hash(identity::api_key_hash(text));
    if (!found || !found->has_value()) return {};
    return (*found)->name;
  }
  if (text.size() > identity::kMaxTokenLength) return {};
  auto jwt = identity::parse_jwt(text);
  if (!jwt) return {};
  auto issuer = identity::string_claim(jwt->payload, "iss");
  if (!issuer) return {};
  // Gateway tokens carry the subject in "sub"; an OIDC issuer in the claim it is configured
  // with.
  std::string_view subject_claim = "sub";
  for (const auto& oidc : config.identity.oidc)
    if (oidc.issuer == *issuer) subject_claim = oidc.subject_claim;
  auto subject = identity::string_claim(jwt->payload, subject_claim);
  return subject ? *subject : std::string();
}

}  // namespace

Secret bearer_credential(std::string_view authorization) {
  if (authorization.size() <= kBearerScheme.size() ||
      !boost::algorithm::istarts_with(authorization, kBearerScheme))
    return Secret{};
  std::string_view value = authorization.substr(kBearerScheme.size());
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return Secret{std::string(value)};
}

Result<identity::Identity> authenticate_bearer(std::string_view authorization,
                                               const ApiContext& context, store::StateStore& state,
                                               std::chrono::system_clock::time_point now) {
  if (authorization.empty())
    return make_error("a bearer token is required (Authorization: Bearer TOKEN)");
  // The scheme is case-insensitive (RFC 9110 section 11.1).
  if (authorization.size() <= kBearerScheme.size() ||
      !boost::algorithm::istarts_with(authorization, kBearerScheme))
    return make_error("the Authorization header must be \"Bearer TOKEN\"");
  const Secret token = bearer_credential(authorization);
  const std::string subject = claimed_subject(token, *context.config, state);
  auto identity = context.authenticator->authenticate(token, subject, now);
  if (!identity) return make_error("authentication failed: " + identity.error().message);
  return identity;
}

}  // namespace portcullis::api
