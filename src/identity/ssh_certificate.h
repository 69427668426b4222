// OpenSSH user certificates (PROTOCOL.certkeys): the gateway's CA signs a caller's Ed25519
// key for no longer than the token that asked for it, and its SSH listener accepts a key only
// with such a certificate (or when the key is registered). Pure (OpenSSL, no I/O).
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace portcullis::identity::ssh {

inline constexpr std::string_view kEd25519Certificate = "ssh-ed25519-cert-v01@openssh.com";
inline constexpr uint32_t kUserCertificate = 1;
inline constexpr uint32_t kHostCertificate = 2;

// The fields a CA chooses.
struct CertificateFields {
  uint64_t serial = 0;
  std::string key_id;
  std::vector<std::string> principals;
  uint64_t valid_after = 0;   // seconds since the epoch
  uint64_t valid_before = 0;  // seconds since the epoch, exclusive
  // Name and value; a flag's value is empty. Written sorted by name, as OpenSSH requires.
  std::vector<std::pair<std::string, std::string>> critical_options;
  std::vector<std::pair<std::string, std::string>> extensions;
};

struct Certificate {
  std::string nonce;
  std::string key;  // the certified key, as a plain ssh-ed25519 blob
  uint32_t type = 0;
  CertificateFields fields;
  std::string signature_key;  // the CA's public key blob
  std::string signature;      // the CA's signature blob
  std::string signed_bytes;   // what the signature covers

  // The value of extension `name`, or nullptr.
  const std::string* extension(std::string_view name) const;
};

// A user certificate for the ssh-ed25519 key `key_blob`, signed by the Ed25519 key `ca`.
// `nonce` is 32 random bytes in real use. Returns the certificate's blob.
Result<std::string> sign_user_certificate(std::string_view key_blob,
                                          const CertificateFields& fields, EVP_PKEY* ca,
                                          std::string_view nonce);

// Reads an ssh-ed25519 certificate blob. Only its form is checked.
Result<Certificate> parse_certificate(std::string_view blob);

// A user certificate that `ca_blob` signed, valid at `now` (seconds since the epoch), with no
// critical option (the gateway knows none, and a certificate with one it does not know must
// be refused). The error says which check failed, for the log; callers tell clients less.
Result<Certificate> verify_user_certificate(std::string_view blob, std::string_view ca_blob,
                                            uint64_t now);

}  // namespace portcullis::identity::ssh
