// Keyed hashing for the `hash` strategy.
#include "masking/keyed_hash.h"

#include <openssl/crypto.h>

#include <array>
#include <new>

namespace portcullis::masking {
namespace {

constexpr std::size_t kSha256Block = 64;  // FIPS 180-4, SHA-256 block size

}  // namespace

KeyedHash::KeyedHash(std::string_view key) : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()) {
  if (inner_ == nullptr || outer_ == nullptr) throw std::bad_alloc();
  std::array<unsigned char, kSha256Block> block{};
  unsigned int len = 0;
  if (key.size() > kSha256Block) {
    EVP_Digest(key.data(), key.size(), block.data(), &len, EVP_sha256(), nullptr);
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<unsigned char, kSha256Block> pad{};
  for (std::size_t k = 0; k < kSha256Block; ++k) pad[k] = block[k] ^ 0x36;
  EVP_DigestInit_ex(inner_, EVP_sha256(), nullptr);
  EVP_DigestUpdate(inner_, pad.data(), pad.size());
  for (std::size_t k = 0; k < kSha256Block; ++k) pad[k] = block[k] ^ 0x5c;
  EVP_DigestInit_ex(outer_, EVP_sha256(), nullptr);
  EVP_DigestUpdate(outer_, pad.data(), pad.size());
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(pad.data(), pad.size());
}

KeyedHash::~KeyedHash() {
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
}

void KeyedHash::append_hex(std::string_view value, EVP_MD_CTX* work, std::size_t hex_digits,
                           std::string& out) const {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_MD_CTX_copy_ex(work, inner_);
  EVP_DigestUpdate(work, value.data(), value.size());
  EVP_DigestFinal_ex(work, digest.data(), &len);
  EVP_MD_CTX_copy_ex(work, outer_);
  EVP_DigestUpdate(work, digest.data(), len);
  EVP_DigestFinal_ex(work, digest.data(), &len);
  constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t k = 0; k < hex_digits && k / 2 < len; ++k) {
    const unsigned char b = digest[k / 2];
    out.push_back(kHex[(k % 2 == 0) ? (b >> 4) : (b & 0xf)]);
  }
}

}  // namespace portcullis::masking
