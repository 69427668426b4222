// The Authenticator: picks the verifier for a presented credential (API key, gateway token or
// OIDC token) and checks that it names the startup user.
#include "identity/authenticator.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "identity/api_key.h"
#include "identity/gateway_token.h"
#include "identity/jwt.h"
#include "identity/oidc_verifier.h"
#include "identity/registered_ssh_keys.h"
#include "store/state_store.h"

namespace portcullis::identity {
namespace {

class TokenAuthenticator final : public Authenticator {
 public:
  TokenAuthenticator(std::string gateway_issuer, std::optional<GatewayTokenVerifier> gateway,
                     std::vector<OidcVerifier> oidc, store::StateStore& store)
      : gateway_issuer_(std::move(gateway_issuer)),
        gateway_(std::move(gateway)),
        oidc_(std::move(oidc)),
        store_(store) {}

  Result<Identity> authenticate(const Secret& credential, std::string_view claimed_subject,
                                std::chrono::system_clock::time_point now) const override {
    auto identity = verify(credential, claimed_subject, now);
    if (!identity) return identity;
    if (auto valid = check_revocation(*identity); !valid) return valid.error();
    return identity;
  }

  // Incident response: credentials of a revoked subject issued up to the revocation are
  // refused from then on; a credential issued after it works again.
  Result<void> check_revocation(const Identity& identity) const override {
    auto revocation = store_.find_revocation(identity.subject);
    if (!revocation) return make_error("cannot check revocations (the state store is unavailable)");
    if (*revocation && identity.issued_at <= (*revocation)->revoked_at)
      return make_error(
          fmt::format("credentials of {} were revoked", quote_untrusted(identity.subject)));
    return {};
  }

  Result<Identity> identity_of_ssh_key(std::string_view public_key_blob,
                                       std::chrono::system_clock::time_point now) const override {
    return identity_of_registered_key(store_, public_key_blob, now);
  }

 private:
  Result<Identity> verify(const Secret& credential, std::string_view claimed_subject,
                          std::chrono::system_clock::time_point now) const {
    const std::string& text = credential.reveal();
    if (text.empty()) return make_error("no token presented");
    if (text.size() > kMaxTokenLength)
      return make_error(fmt::format("token too long (more than {} bytes)", kMaxTokenLength));
    // The API key path checks the name itself, before it records the key's use.
    if (has_api_key_prefix(text)) return verify_api_key(store_, credential, claimed_subject, now);
    auto identity = verify_jwt(text, now);
    if (!identity) return identity;
    if (!claimed_subject.empty() && identity->subject != claimed_subject)
      return make_error(fmt::format("token subject {} does not match user {}",
                                    quote_untrusted(identity->subject),
                                    quote_untrusted(claimed_subject)));
    return identity;
  }

  Result<Identity> verify_jwt(const std::string& text, TimePoint now) const {
    auto jwt = parse_jwt(text);
    if (!jwt) return jwt.error();
    // Refuse "none" and HMAC before anything else looks at the token.
    if (auto algorithm = accepted_algorithm(jwt->alg); !algorithm) return algorithm.error();
    auto issuer = string_claim(jwt->payload, "iss");
    if (!issuer) return issuer.error();

    const bool gateway_issuer = *issuer == gateway_issuer_;
    if (gateway_issuer && jwt->alg == "EdDSA") return verify_gateway(*jwt, now);
    for (const auto& verifier : oidc_)
      if (verifier.issuer() == *issuer) return verifier.verify(*jwt, now);
    // The gateway's issuer with another algorithm: the gateway verifier names the mismatch.
    if (gateway_issuer) return verify_gateway(*jwt, now);
    return make_error(fmt::format("token issuer {} is not trusted", quote_untrusted(*issuer)));
  }

  Result<Identity> verify_gateway(const Jwt& jwt, TimePoint now) const {
    if (!gateway_) return make_error("gateway tokens are not enabled on this gateway");
    return gateway_->verify(jwt, now);
  }

  std::string gateway_issuer_;
  std::optional<GatewayTokenVerifier> gateway_;
  std::vector<OidcVerifier> oidc_;
  store::StateStore& store_;
};

}  // namespace

Result<std::unique_ptr<Authenticator>> make_authenticator(const config::Config& config,
                                                          store::StateStore& store,
                                                          bool create_signing_key) {
  const auto& identity = config.identity;
  std::optional<GatewayTokenVerifier> gateway;
  // Without a signing key file there are no gateway tokens; OIDC and API keys still work.
  if (!identity.signing_key_file.empty()) {
    auto key = load_signing_key(identity.signing_key_file, create_signing_key);
    if (!key) return key.error();
    gateway.emplace(std::move(*key), identity.issuer, identity.leeway);
  }
  std::vector<OidcVerifier> oidc;
  for (const auto& issuer : identity.oidc) {
    if (issuer.issuer == identity.issuer)
      return make_error(fmt::format(
          "OIDC issuer {} has the same name as the gateway's own issuer (identity.issuer)",
          issuer.issuer));
    auto verifier = OidcVerifier::load(issuer, identity.leeway);
    if (!verifier) return verifier.error();
    oidc.push_back(std::move(*verifier));
  }
  return std::unique_ptr<Authenticator>(std::make_unique<TokenAuthenticator>(
      identity.issuer, std::move(gateway), std::move(oidc), store));
}

}  // namespace portcullis::identity
