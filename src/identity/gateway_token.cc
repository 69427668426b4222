// Issuing and verifying the gateway's own EdDSA tokens.
#include "identity/gateway_token.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <array>
#include <boost/json/array.hpp>

#include "identity/base64url.h"
#include "identity/jws.h"
#include "identity/subject.h"

namespace portcullis::identity {
namespace {

// 128 random bits: unguessable and, for revocation by jti, collision-free in practice.
constexpr std::size_t kJtiBytes = 16;

int64_t seconds_since_epoch(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Result<std::string> random_jti() {
  std::array<unsigned char, kJtiBytes> bytes{};
  if (RAND_bytes(bytes.data(), bytes.size()) != 1) return make_error("no random bytes available");
  return base64url_encode(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Result<SubjectKind> parse_kind(const boost::json::object& payload) {
  auto kind = optional_string_claim(payload, "kind");
  if (!kind) return kind.error();
  if (!kind->has_value() || **kind == "user") return SubjectKind::user;
  if (**kind == "service") return SubjectKind::service;
  return make_error("malformed token: \"kind\" claim is neither \"user\" nor \"service\"");
}

}  // namespace

Result<Secret> issue_gateway_token(const SigningKey& key, std::string_view issuer,
                                   const TokenRequest& request, TimePoint now) {
  if (request.subject.empty()) return make_error("the token subject is empty");
  if (request.subject.size() > kMaxNameLength) return make_error("the token subject is too long");
  if (auto valid = validate_subject(request.subject, "token subject"); !valid) return valid.error();
  for (const auto& group : request.groups)
    if (group.empty() || group.size() > kMaxNameLength)
      return make_error("a group name is empty or too long");
  if (request.ttl <= std::chrono::milliseconds::zero())
    return make_error("the token lifetime must be positive");
  auto jti = random_jti();
  if (!jti) return jti.error();

  const int64_t issued = seconds_since_epoch(now);
  // Round the expiry up so that a sub-second lifetime still yields exp > iat.
  const auto expiry = std::chrono::ceil<std::chrono::seconds>(now + request.ttl);
  boost::json::array groups;
  for (const auto& group : request.groups) groups.emplace_back(group);

  const boost::json::object header{{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", key.key_id()}};
  const boost::json::object payload{
      {"iss", issuer},
      {"sub", request.subject},
      {"groups", std::move(groups)},
      {"kind", to_string(request.kind)},
      {"iat", issued},
      {"nbf", issued},
      {"exp", static_cast<int64_t>(expiry.time_since_epoch().count())},
      {"jti", *jti},
  };
  std::string token = jws_signing_input(header, payload);
  auto signature = sign_jws(JwsAlgorithm::eddsa, key.pkey(), token);
  if (!signature) return signature.error();
  token += '.';
  token += base64url_encode(*signature);
  return Secret(std::move(token));
}

Result<Identity> GatewayTokenVerifier::verify(const Jwt& jwt, TimePoint now) const {
  auto algorithm = accepted_algorithm(jwt.alg);
  if (!algorithm) return algorithm.error();
  if (*algorithm != JwsAlgorithm::eddsa)
    return make_error(fmt::format("token algorithm {} does not match the key type (Ed25519)",
                                  quote_untrusted(jwt.alg)));
  // A kid from another key (say, one replaced since) can never verify: say so plainly.
  if (jwt.kid && *jwt.kid != key_.key_id())
    return make_error(
        fmt::format("token key id {} is not the gateway's signing key", quote_untrusted(*jwt.kid)));
  if (!verify_jws_signature(JwsAlgorithm::eddsa, key_.pkey(), jwt.signing_input, jwt.signature))
    return make_error("token signature is invalid");

  auto issuer = string_claim(jwt.payload, "iss");
  if (!issuer) return issuer.error();
  if (*issuer != issuer_)
    return make_error(fmt::format("token issuer {} is not trusted", quote_untrusted(*issuer)));
  auto expires = check_time_claims(jwt.payload, now, leeway_);
  if (!expires) return expires.error();
  auto subject = string_claim(jwt.payload, "sub");
  if (!subject) return subject.error();
  if (subject->empty()) return make_error("malformed token: \"sub\" claim is empty");
  if (auto valid = validate_subject(*subject, "token subject"); !valid)
    return make_error("malformed token: " + valid.error().message);
  auto groups = string_list_claim(jwt.payload, "groups", false);
  if (!groups) return groups.error();
  auto kind = parse_kind(jwt.payload);
  if (!kind) return kind.error();
  auto jti = optional_string_claim(jwt.payload, "jti");
  if (!jti) return jti.error();

  Identity identity;
  identity.subject = std::move(*subject);
  identity.kind = *kind;
  identity.groups = std::move(*groups);
  identity.method = AuthMethod::gateway_token;
  identity.issuer = issuer_;
  identity.token_id = jti->value_or("");
  if (!identity.token_id.empty()) identity.credential = "jti " + identity.token_id;
  identity.expires_at = *expires;
  // Checked (and present or absent) by check_time_claims above.
  if (auto issued = numeric_date_claim(jwt.payload, "iat"); issued && issued->has_value())
    identity.issued_at = **issued;
  return identity;
}

}  // namespace portcullis::identity
