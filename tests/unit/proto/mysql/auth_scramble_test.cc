#include "proto/mysql/auth_scramble.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

#include "hex.h"

namespace portcullis::proto::mysql {
namespace {
using testing::to_hex;

// The scramble of the captured greeting (hex.h); the expected answers were computed with
// Python's hashlib from the algorithms' definitions.
constexpr std::string_view kScramble = "PZV#FvB$.YX,rz1\"Tbo'";

TEST(MysqlAuthScramble, AnswersNativePasswordAsTheServerChecksIt) {
  EXPECT_EQ(to_hex(native_password_response("rwpass", kScramble)),
            "f540317b3b7ebcfbff2713d6c729c2e1e9d83f5c");
  EXPECT_EQ(native_password_response("", kScramble), "");
}

TEST(MysqlAuthScramble, AnswersCachingSha2FastPath) {
  EXPECT_EQ(to_hex(caching_sha2_response("rwpass", kScramble)),
            "69d645961fe5559bb7705b4f81b7a07ffed6cda64f1f49844642481e061d6b05");
  EXPECT_EQ(caching_sha2_response("", kScramble), "");
}

// An Ed25519 signature check by OpenSSL, which implements RFC 8032 on its own.
bool ed25519_verifies(std::string_view public_key, std::string_view signature,
                      std::string_view message) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                  reinterpret_cast<const unsigned char*>(public_key.data()),
                                  public_key.size()),
      EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

TEST(MysqlAuthScramble, SignsTheEd25519NonceWithTheKeyTheServerStores) {
  // MariaDB 10.11 stored this key (base64, unpadded, in mysql.global_priv) for
  // CREATE USER ... IDENTIFIED VIA ed25519 USING PASSWORD('correct horse battery staple').
  // "1+uYqLS7J/yXURCXR5LjPl0TZDP5bkgVXq1Kq9aCeL4", in hex:
  const std::string key = ed25519_public_key("correct horse battery staple");
  EXPECT_EQ(to_hex(key), "d7eb98a8b4bb27fc975110974792e33e5d136433f96e48155ead4aabd68278be");
  // A 32-byte nonce whose last byte is zero, as a server's may be.
  std::string nonce(32, '\x5a');
  nonce.back() = '\0';
  const std::string signature = ed25519_response("correct horse battery staple", nonce);
  ASSERT_EQ(signature.size(), 64u);
  EXPECT_TRUE(ed25519_verifies(key, signature, nonce));
  EXPECT_FALSE(ed25519_verifies(key, signature, std::string(32, '\x5a')));
  EXPECT_FALSE(
      ed25519_verifies(ed25519_public_key("Correct horse battery staple"), signature, nonce));
  // Deterministic, as RFC 8032 signatures are.
  EXPECT_EQ(signature, ed25519_response("correct horse battery staple", nonce));
  EXPECT_EQ(ed25519_response("", nonce), "");
}

TEST(MysqlAuthScramble, EncryptsThePasswordForTheServersRsaKey) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  ASSERT_TRUE(key);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), key.get()), 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  const std::string pem(data, static_cast<std::size_t>(size));

  auto encrypted = rsa_encrypted_password("rwpass", kScramble, pem);
  ASSERT_TRUE(encrypted) << encrypted.error().message;
  EXPECT_EQ(encrypted->size(), 256u);

  // The server decrypts and XORs with the scramble again: the password and its NUL.
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new(key.get(), nullptr), EVP_PKEY_CTX_free);
  ASSERT_GT(EVP_PKEY_decrypt_init(ctx.get()), 0);
  ASSERT_GT(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING), 0);
  std::string plain(256, '\0');
  std::size_t length = plain.size();
  ASSERT_GT(EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &length,
                             reinterpret_cast<const unsigned char*>(encrypted->data()),
                             encrypted->size()),
            0);
  plain.resize(length);
  for (std::size_t i = 0; i < plain.size(); ++i) plain[i] ^= kScramble[i % kScramble.size()];
  EXPECT_EQ(plain, std::string("rwpass") + '\0');
}

TEST(MysqlAuthScramble, RefusesAKeyItCannotRead) {
  EXPECT_FALSE(rsa_encrypted_password("pw", kScramble, "-----BEGIN PUBLIC KEY-----\nnope\n"));
}

}  // namespace
}  // namespace portcullis::proto::mysql
