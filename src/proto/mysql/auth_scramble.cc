// Password plugin answers for backends.
#include "proto/mysql/auth_scramble.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

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

}  // namespace

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
