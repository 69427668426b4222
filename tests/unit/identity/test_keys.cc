// Key generation, JWK export and token signing for the identity tests.
#include "test_keys.h"

#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdlib.h>

#include <boost/json/serialize.hpp>
#include <stdexcept>
#include <vector>

#include "identity/base64url.h"
#include "identity/jwt.h"

namespace portcullis::identity::testing {
namespace {

std::string bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) throw std::runtime_error("no bn param");
  BignumPtr bn(raw);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
  return base64url_encode(bytes);
}

}  // namespace

EvpPkeyPtr generate_rsa_key(int bits) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  if (!key) throw std::runtime_error("RSA keygen failed");
  return key;
}

EvpPkeyPtr generate_ec_p256_key() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) throw std::runtime_error("EC keygen failed");
  return key;
}

EvpPkeyPtr generate_ed25519_key() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) throw std::runtime_error("Ed25519 keygen failed");
  return key;
}

boost::json::object rsa_jwk(EVP_PKEY* key, const std::string& kid) {
  boost::json::object jwk{{"kty", "RSA"},
                          {"use", "sig"},
                          {"n", bn_param(key, OSSL_PKEY_PARAM_RSA_N)},
                          {"e", bn_param(key, OSSL_PKEY_PARAM_RSA_E)}};
  if (!kid.empty()) jwk["kid"] = kid;
  return jwk;
}

boost::json::object ec_jwk(EVP_PKEY* key, const std::string& kid) {
  std::vector<unsigned char> point(65);
  std::size_t length = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(),
                                      &length) != 1 ||
      length != 65)
    throw std::runtime_error("no EC point");
  const std::string bytes(reinterpret_cast<const char*>(point.data()), length);
  boost::json::object jwk{{"kty", "EC"},
                          {"crv", "P-256"},
                          {"x", base64url_encode(bytes.substr(1, 32))},
                          {"y", base64url_encode(bytes.substr(33, 32))}};
  if (!kid.empty()) jwk["kid"] = kid;
  return jwk;
}

std::string public_key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string encode_part(const boost::json::object& object) {
  return base64url_encode(boost::json::serialize(object));
}

std::string with_altered_signature(const std::string& token) {
  const auto sig_at = token.rfind('.') + 1;
  auto signature = base64url_decode(token.substr(sig_at));
  if (!signature || signature->empty()) throw std::runtime_error("token has no signature");
  (*signature)[0] ^= 0x80;
  return token.substr(0, sig_at) + base64url_encode(*signature);
}

std::string sign_token(const boost::json::object& header, const boost::json::object& payload,
                       JwsAlgorithm algorithm, EVP_PKEY* key) {
  const std::string input = jws_signing_input(header, payload);
  auto signature = sign_jws(algorithm, key, input);
  if (!signature) throw std::runtime_error(signature.error().message);
  return input + "." + base64url_encode(*signature);
}

std::string hmac_token(const boost::json::object& header, const boost::json::object& payload,
                       const std::string& secret, int bits) {
  const std::string input = jws_signing_input(header, payload);
  const EVP_MD* md = bits == 512 ? EVP_sha512() : bits == 384 ? EVP_sha384() : EVP_sha256();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(md, secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), length));
}

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "portcullis-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace portcullis::identity::testing
