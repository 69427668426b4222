// HMAC-SHA-256 (RFC 2104) with the key's inner and outer pads hashed once: a value costs two
// short SHA-256 runs and no allocation.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace portcullis::masking {

class KeyedHash {
 public:
  explicit KeyedHash(std::string_view key);
  ~KeyedHash();
  KeyedHash(const KeyedHash&) = delete;
  KeyedHash& operator=(const KeyedHash&) = delete;

  // Appends the first `hex_digits` hex digits of HMAC-SHA-256(key, value) to `out`. `work` is
  // the caller's per-thread context.
  void append_hex(std::string_view value, EVP_MD_CTX* work, std::size_t hex_digits,
                  std::string& out) const;

 private:
  EVP_MD_CTX* inner_ = nullptr;
  EVP_MD_CTX* outer_ = nullptr;
};

}  // namespace portcullis::masking
