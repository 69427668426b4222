// Authenticator: turns the password a client presented (gateway token, OIDC JWT or API key),
// or an SSH key registered to a subject, into an Identity, or into the reason it was refused.
// Protocol front ends call only this.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"
#include "config/config.h"
#include "identity/identity.h"

namespace portcullis::store {
class StateStore;
}

namespace portcullis::identity {

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // Verifies `credential` and checks that it names `claimed_subject` (the startup `user`);
  // an empty claim accepts the subject the credential names (SSH, whose user name is the
  // connection).
  // The error message is the reason, fit to show the caller ("token expired", ...); it never
  // contains the credential.
  virtual Result<Identity> authenticate(const Secret& credential, std::string_view claimed_subject,
                                        std::chrono::system_clock::time_point now) const = 0;

  // Whether an identity proven some other way (an SSH certificate this gateway issued) still
  // stands: its subject's credentials were not revoked after it was issued.
  virtual Result<void> check_revocation(const Identity& identity) const = 0;

  // Who a plain SSH public key (its wire blob) registered to a subject logs in as, when its
  // registration is in force and not expired (error code "not_found": no registration in
  // force); revocations are checked by check_revocation, as for certificates.
  virtual Result<Identity> identity_of_ssh_key(std::string_view public_key_blob,
                                               std::chrono::system_clock::time_point now) const = 0;
};

// Builds the authenticator for a configuration snapshot: loads the signing key (creating it,
// mode 0600, when `create_signing_key` and it is missing) and every OIDC issuer's JWKS.
// `store` must outlive the authenticator (API keys are looked up there).
Result<std::unique_ptr<Authenticator>> make_authenticator(const config::Config& config,
                                                          store::StateStore& store,
                                                          bool create_signing_key);

}  // namespace portcullis::identity
