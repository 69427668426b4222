// The gateway's Ed25519 signing key: loaded from a PEM PKCS#8 file that only its owner may
// read, or created there (mode 0600) on first use.
#pragma once

#include <openssl/evp.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/secret.h"

namespace portcullis::identity {

class SigningKey {
 public:
  // A fresh key held only in memory.
  static Result<SigningKey> generate();
  // A key from PEM PKCS#8 text; it must be an Ed25519 private key.
  static Result<SigningKey> from_pem(const Secret& pem);

  // Short fingerprint of the public key, used as the JWS "kid": the first 16 characters of
  // its RFC 7638 JWK thumbprint (SHA-256, base64url).
  const std::string& key_id() const { return key_id_; }
  EVP_PKEY* pkey() const { return key_.get(); }

  // The private key as PEM PKCS#8.
  Result<Secret> to_pem() const;

 private:
  SigningKey(std::shared_ptr<EVP_PKEY> key, std::string key_id)
      : key_(std::move(key)), key_id_(std::move(key_id)) {}
  static Result<SigningKey> wrap(EVP_PKEY* key);

  std::shared_ptr<EVP_PKEY> key_;
  std::string key_id_;
};

// Loads the signing key from `file`. When the file does not exist and `create_if_missing`,
// creates it (and its parent folder) with a new key, mode 0600, refusing to overwrite a file
// that appears meanwhile. A key file that group or others may read or write is refused.
Result<SigningKey> load_signing_key(const std::filesystem::path& file, bool create_if_missing);

}  // namespace portcullis::identity
