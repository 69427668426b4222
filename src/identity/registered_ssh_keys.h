// SSH public keys registered to a subject, for service accounts that log in to the SSH listener
// with a key of their own rather than a certificate (#17): which keys may be registered, the
// registration, and who a registered key logs in as.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "identity/claims.h"
#include "identity/identity.h"
#include "identity/ssh_keys.h"
#include "store/state_store.h"

namespace portcullis::identity {

// The `issuer` of identities proven by a registered SSH key.
inline constexpr std::string_view kSshKeyIssuer = "ssh_key";
// NIST SP 800-131A: RSA signatures need a modulus of at least 2048 bits.
inline constexpr int kMinRsaKeyBits = 2048;
// OpenSSH's own ceiling (SSH_RSA_MAXIMUM_MODULUS_SIZE): larger keys are refused by ssh too.
inline constexpr int kMaxRsaKeyBits = 16384;

// A key line fit to register, normalised: "TYPE BASE64 [COMMENT]" with the base64 written
// again and the comment trimmed.
struct RegistrableSshKey {
  ssh::PublicKey key;
  std::string line;
  std::string fingerprint;  // "SHA256:..."
};

// Reads an OpenSSH public key line (a .pub file, an authorized_keys line without options):
// ssh-ed25519, ecdsa-sha2-nistp256/384/521 (a point on its curve) or ssh-rsa of 2048 to 16384
// bits. Certificates and security keys (sk-...) are refused: a certificate is not a plain key.
Result<RegistrableSshKey> read_registrable_ssh_key(std::string_view line);

// Checks a key blob as read_registrable_ssh_key checks the key of a line.
Result<void> check_registrable_ssh_key_blob(std::string_view blob);

struct SshKeyRegistration {
  std::string subject;
  std::vector<std::string> groups;
  std::string public_key;  // the line, as read_registrable_ssh_key reads it
  std::optional<TimePoint> expires_at;
  std::string created_by;
};

// Registers the key (a new id, its fingerprint); error code "conflict" when the key is
// registered already and not removed, "invalid" when the request is not acceptable.
Result<store::SshKeyRecord> register_ssh_key(store::StateStore& store,
                                             const SshKeyRegistration& registration, TimePoint now);

// The identity a plain key (its SSH wire blob, as a client offered it) logs in as: its
// registration in force, not expired at `now`, is that subject's, kind service, with its
// groups. Error code "not_found" when the key is not registered (or was removed). Revocations
// of the subject are the caller's to check (Authenticator).
Result<Identity> identity_of_registered_key(store::StateStore& store, std::string_view blob,
                                            TimePoint now);

}  // namespace portcullis::identity
