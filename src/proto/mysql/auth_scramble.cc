// Password plugin answers for backends.
#include "proto/mysql/auth_scramble.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <array>
#include <initializer_list>
#include <memory>

namespace portcullis::proto::mysql {
namespace {

std::string digest(const EVP_MD* md, std::string_view a, std::string_view b = {}) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), md, nullptr);
  EVP_DigestUpdate(ctx.get(), a.data(), a.size());
  if (!b.empty()) EVP_DigestUpdate(ctx.get(), b.data(), b.size());
  EVP_DigestFinal_ex(ctx.get(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string xor_bytes(std::string a, std::string_view b) {
  for (std::size_t i = 0; i < a.size() && !b.empty(); ++i) a[i] ^= b[i % b.size()];
  return a;
}

using Scalar = std::array<unsigned char, crypto_core_ed25519_SCALARBYTES>;
using Point = std::array<unsigned char, crypto_core_ed25519_BYTES>;
using Hash = std::array<unsigned char, crypto_hash_sha512_BYTES>;

// SHA-512 of the password, clamped as RFC 8032 clamps the hash of a seed: the first half is
// the secret scalar, the second the nonce prefix.
Hash expanded_password(std::string_view password) {
  Hash az;
  crypto_hash_sha512(az.data(), reinterpret_cast<const unsigned char*>(password.data()),
                     password.size());
  az[0] &= 248;
  az[31] &= 63;
  az[31] |= 64;
  return az;
}

Point base_times(const unsigned char* scalar) {
  Point out{};
  // Fails only for a zero scalar or the identity, which a clamped scalar or a reduced hash
  // of the password and scramble does not give.
  (void)crypto_scalarmult_ed25519_base_noclamp(out.data(), scalar);
  return out;
}

Scalar reduced_hash(std::initializer_list<std::string_view> parts) {
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  for (std::string_view part : parts)
    crypto_hash_sha512_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                              part.size());
  Hash hash;
  crypto_hash_sha512_final(&state, hash.data());
  Scalar out;
  crypto_core_ed25519_scalar_reduce(out.data(), hash.data());
  return out;
}

std::string_view bytes(const auto& array) {
  return {reinterpret_cast<const char*>(array.data()), array.size()};
}

}  // namespace

std::string ed25519_public_key(std::string_view password) {
  if (sodium_init() < 0) return {};
  const Hash az = expanded_password(password);
  return std::string(bytes(base_times(az.data())));
}

std::string ed25519_response(std::string_view password, std::string_view scramble) {
  if (password.empty() || sodium_init() < 0) return {};
  const Hash az = expanded_password(password);
  const Point a = base_times(az.data());
  // r = H(prefix || M), R = rB, k = H(R || A || M), S = r + k·s (mod L).
  const Scalar r =
      reduced_hash({std::string_view(reinterpret_cast<const char*>(az.data()) + 32, 32), scramble});
  const Point big_r = base_times(r.data());
  const Scalar k = reduced_hash({bytes(big_r), bytes(a), scramble});
  Scalar k_s;
  crypto_core_ed25519_scalar_mul(k_s.data(), k.data(), az.data());
  Scalar s;
  crypto_core_ed25519_scalar_add(s.data(), r.data(), k_s.data());
  std::string signature(bytes(big_r));
  signature.append(bytes(s));
  return signature;
}

std::string native_password_response(std::string_view password, std::string_view scramble) {
  if (password.empty()) return {};
  const std::string stage1 = digest(EVP_sha1(), password);
  const std::string stage2 = digest(EVP_sha1(), stage1);
  return xor_bytes(stage1, digest(EVP_sha1(), scramble, stage2));
}

std::string caching_sha2_response(std::string_view password, std::string_view scramble) {
  if (password.empty()) return {};
  const std::string stage1 = digest(EVP_sha256(), password);
  const std::string stage2 = digest(EVP_sha256(), stage1);
  return xor_bytes(stage1, digest(EVP_sha256(), stage2, scramble));
}

Result<std::string> rsa_encrypted_password(std::string_view password, std::string_view scramble,
                                           std::string_view public_key_pem) {
  std::string plain(password);
  plain.push_back('\0');
  plain = xor_bytes(std::move(plain), scramble);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr, EVP_PKEY_free);
  if (!key) return Error{"the backend's RSA public key cannot be read"};
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new(key.get(), nullptr), EVP_PKEY_CTX_free);
  std::size_t length = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &length,
                       reinterpret_cast<const unsigned char*>(plain.data()), plain.size()) <= 0)
    return Error{"the password cannot be encrypted with the backend's RSA key"};
  std::string out(length, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &length,
                       reinterpret_cast<const unsigned char*>(plain.data()), plain.size()) <= 0)
    return Error{"the password cannot be encrypted with the backend's RSA key"};
  out.resize(length);
  return out;
}

}  // namespace portcullis::proto::mysql
