// OIDC ID/access token verification against a JWKS file (OpenID Connect Core 1.0, 3.1.3.7).
#include "identity/oidc_verifier.h"

#include <fmt/format.h>

#include "identity/jws.h"
#include "identity/subject.h"

namespace portcullis::identity {
namespace {

// "aud" is one string or an array of strings (RFC 7519 4.1.3).
Result<bool> audience_matches(const boost::json::object& payload, std::string_view audience) {
  const auto* aud = payload.if_contains("aud");
  if (aud == nullptr) return false;
  if (const auto* one = aud->if_string()) return *one == audience;
  const auto* many = aud->if_array();
  if (many == nullptr) return make_error("malformed token: \"aud\" claim is not a string or list");
  bool found = false;
  for (const auto& item : *many) {
    const auto* text = item.if_string();
    if (text == nullptr)
      return make_error("malformed token: \"aud\" claim is not a string or list");
    if (*text == audience) found = true;
  }
  return found;
}

}  // namespace

Result<OidcVerifier> OidcVerifier::load(const config::OidcIssuerConfig& config,
                                        std::chrono::milliseconds leeway) {
  if (config.issuer.empty()) return make_error("an OIDC issuer has an empty \"issuer\"");
  // Without an audience any token the IdP minted for any application would be accepted.
  if (config.audience.empty())
    return make_error(fmt::format("OIDC issuer {}: \"audience\" is required", config.issuer));
  if (config.jwks_file.empty()) {
    if (!config.jwks_url.empty())
      return make_error(fmt::format(
          "OIDC issuer {}: jwks_url is not supported yet; download the key set and use jwks_file",
          config.issuer));
    return make_error(fmt::format("OIDC issuer {}: \"jwks_file\" is required", config.issuer));
  }
  auto keys = Jwks::load_file(config.jwks_file);
  if (!keys)
    return make_error(fmt::format("OIDC issuer {}: {}", config.issuer, keys.error().message));
  return OidcVerifier(config, std::move(*keys), leeway);
}

Result<Identity> OidcVerifier::verify(const Jwt& jwt, TimePoint now) const {
  auto algorithm = accepted_algorithm(jwt.alg);
  if (!algorithm) return algorithm.error();
  auto key = keys_.find(jwt.kid);
  if (!key) return key.error();
  if ((*key)->algorithm != *algorithm)
    return make_error(fmt::format("token algorithm {} does not match the key type ({})",
                                  quote_untrusted(jwt.alg), describe_key_type((*key)->key.get())));
  if (!verify_jws_signature(*algorithm, (*key)->key.get(), jwt.signing_input, jwt.signature))
    return make_error("token signature is invalid");

  auto issuer = string_claim(jwt.payload, "iss");
  if (!issuer) return issuer.error();
  if (*issuer != config_.issuer)
    return make_error(fmt::format("token issuer {} is not trusted", quote_untrusted(*issuer)));
  auto audience = audience_matches(jwt.payload, config_.audience);
  if (!audience) return audience.error();
  if (!*audience)
    return make_error(
        fmt::format("token audience does not include {}", quote_untrusted(config_.audience)));
  auto expires = check_time_claims(jwt.payload, now, leeway_);
  if (!expires) return expires.error();
  auto subject = string_claim(jwt.payload, config_.subject_claim);
  if (!subject) return subject.error();
  if (subject->empty())
    return make_error(fmt::format("malformed token: \"{}\" claim is empty", config_.subject_claim));
  if (auto valid = validate_subject(*subject, fmt::format("\"{}\" claim", config_.subject_claim));
      !valid)
    return make_error("malformed token: " + valid.error().message);
  auto groups = string_list_claim(jwt.payload, config_.groups_claim, true);
  if (!groups) return groups.error();
  auto jti = optional_string_claim(jwt.payload, "jti");
  if (!jti) return jti.error();

  Identity identity;
  identity.subject = std::move(*subject);
  identity.kind = SubjectKind::user;
  identity.groups = std::move(*groups);
  identity.method = AuthMethod::oidc;
  identity.issuer = config_.issuer;
  identity.token_id = jti->value_or("");
  if (!identity.token_id.empty()) identity.credential = "jti " + identity.token_id;
  identity.expires_at = *expires;
  // Checked (and present or absent) by check_time_claims above.
  if (auto issued = numeric_date_claim(jwt.payload, "iat"); issued && issued->has_value())
    identity.issued_at = **issued;
  return identity;
}

}  // namespace portcullis::identity
