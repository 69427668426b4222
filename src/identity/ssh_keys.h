// SSH public keys as OpenSSH writes them (authorized_keys lines, .pub files), their
// fingerprints, and Ed25519 key pairs in OpenSSH's own private key format, so that the keys
// `portcullis ssh login` writes are used by ssh as they are. Pure (OpenSSL, no I/O).
// References: RFC 4253 section 6.6, RFC 8709 (ssh-ed25519), OpenSSH's PROTOCOL.key.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret.h"

namespace portcullis::identity::ssh {

inline constexpr std::string_view kEd25519 = "ssh-ed25519";
// The bytes of an Ed25519 public key, and of its private seed.
inline constexpr std::size_t kEd25519KeySize = 32;

// A public key in SSH form: its type name and its whole wire blob (the type name first).
struct PublicKey {
  std::string type;  // "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256"...
  std::string blob;
};

// "TYPE BASE64 [COMMENT]", as in authorized_keys and .pub files (without options). The blob's
// own type name must be TYPE.
Result<PublicKey> parse_public_key_line(std::string_view line);
std::string public_key_line(const PublicKey& key, std::string_view comment = {});

// "SHA256:" and the unpadded base64 of the blob's SHA-256, as ssh-keygen -l prints it.
std::string fingerprint(std::string_view blob);

// The ssh-ed25519 blob of an Ed25519 key (public or private).
Result<std::string> ed25519_public_blob(EVP_PKEY* key);
// The Ed25519 key of an ssh-ed25519 blob, for verifying its signatures.
Result<std::shared_ptr<EVP_PKEY>> ed25519_key_from_blob(std::string_view blob);

// An "ssh-ed25519" signature blob of `data` (the algorithm name and the 64 signature bytes).
Result<std::string> ed25519_signature_blob(EVP_PKEY* key, std::string_view data);
bool ed25519_signature_verifies(EVP_PKEY* key, std::string_view signature_blob,
                                std::string_view data);

// An Ed25519 private key in OpenSSH's format ("-----BEGIN OPENSSH PRIVATE KEY-----"),
// unencrypted: the file `ssh -i` reads. `check` is the 32-bit value the format repeats to
// detect a wrong passphrase; random in real use.
Result<Secret> openssh_private_key(EVP_PKEY* key, std::string_view comment, uint32_t check);

}  // namespace portcullis::identity::ssh
