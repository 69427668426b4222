// The gateway's SSH user certificate authority: it certifies a caller's key for no longer
// than the credential that asked (and `identity.ssh.max_certificate_ttl`), with the caller's
// identity inside, so that the SSH listener knows who a certificate is for without the token.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"
#include "identity/identity.h"
#include "identity/signing_key.h"

namespace portcullis::identity {

// The extension that carries the caller's identity (JSON), in certificates this CA signs.
inline constexpr std::string_view kSshIdentityExtension = "identity@portcullis";

struct IssuedSshCertificate {
  std::string certificate;  // the line for KEY-cert.pub: "ssh-ed25519-cert-v01@openssh.com ..."
  std::string key_id;
  uint64_t serial = 0;
  std::chrono::system_clock::time_point valid_after;
  std::chrono::system_clock::time_point valid_before;
};

class SshCertificateAuthority {
 public:
  explicit SshCertificateAuthority(SigningKey key);

  // The CA of `file`, created there (mode 0600) when missing.
  static Result<SshCertificateAuthority> load(const std::filesystem::path& file);

  // The CA's public key as an ssh-ed25519 blob, and as an authorized_keys line.
  const std::string& public_blob() const { return public_blob_; }
  std::string public_key_line() const;

  // Certifies the ssh-ed25519 key of `public_key_line` for `caller`, valid from a minute
  // before `now` (clock skew) until the earliest of the caller's credential expiry and
  // now + max_ttl.
  Result<IssuedSshCertificate> issue(const Identity& caller, std::string_view public_key_line,
                                     std::chrono::system_clock::time_point now,
                                     std::chrono::seconds max_ttl) const;

  // The caller a certificate blob was issued to, if this CA signed it and it is valid at
  // `now`: expires_at is the certificate's end. Revocations are the caller's to check.
  Result<Identity> identity_of(std::string_view certificate_blob,
                               std::chrono::system_clock::time_point now) const;

 private:
  SigningKey key_;
  std::string public_blob_;
};

}  // namespace portcullis::identity
