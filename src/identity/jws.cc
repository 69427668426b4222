// Signature creation and verification for the accepted JWS algorithms, on OpenSSL 3 EVP.
#include "identity/jws.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>

#include "identity/claims.h"
#include "identity/openssl_ptr.h"

namespace portcullis::identity {
namespace {

// RFC 7518 section 3.4: an ES256 signature is R and S, each 32 bytes, big-endian.
constexpr std::size_t kEs256ComponentSize = 32;
// RFC 8032: an Ed25519 signature is 64 bytes.
constexpr std::size_t kEd25519SignatureSize = 64;

const EVP_MD* digest_for(JwsAlgorithm algorithm) {
  // EdDSA hashes internally and takes no digest.
  return algorithm == JwsAlgorithm::eddsa ? nullptr : EVP_sha256();
}

std::optional<std::string> es256_raw_to_der(std::string_view raw) {
  if (raw.size() != 2 * kEs256ComponentSize) return std::nullopt;
  auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BignumPtr r(BN_bin2bn(bytes, kEs256ComponentSize, nullptr));
  BignumPtr s(BN_bin2bn(bytes + kEs256ComponentSize, kEs256ComponentSize, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig) return std::nullopt;
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // owned by sig now
  s.release();
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) return std::nullopt;
  return der;
}

std::optional<std::string> es256_der_to_raw(std::string_view der) {
  auto* in = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &in, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kEs256ComponentSize, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kEs256ComponentSize) < 0 ||
      BN_bn2binpad(s, out + kEs256ComponentSize, kEs256ComponentSize) < 0)
    return std::nullopt;
  return raw;
}

bool is_p256(EVP_PKEY* key) {
  std::array<char, 64> group{};
  std::size_t length = 0;
  if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &length) != 1) return false;
  const std::string_view name(group.data(), length);
  return name == "prime256v1" || name == "P-256" || name == "secp256r1";
}

}  // namespace

std::string_view to_string(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::eddsa:
      return "EdDSA";
    case JwsAlgorithm::rs256:
      return "RS256";
    case JwsAlgorithm::es256:
      return "ES256";
  }
  return "unknown";
}

Result<JwsAlgorithm> accepted_algorithm(std::string_view alg) {
  if (alg == "EdDSA") return JwsAlgorithm::eddsa;
  if (alg == "RS256") return JwsAlgorithm::rs256;
  if (alg == "ES256") return JwsAlgorithm::es256;
  // "none" in any letter case: some libraries once compared case-insensitively.
  if (alg.size() == 4 && (alg[0] | 0x20) == 'n' && (alg[1] | 0x20) == 'o' &&
      (alg[2] | 0x20) == 'n' && (alg[3] | 0x20) == 'e')
    return make_error(fmt::format("token algorithm {} is not accepted", quote_untrusted(alg)));
  if (alg == "HS256" || alg == "HS384" || alg == "HS512")
    return make_error(fmt::format(
        "token algorithm {} is not accepted (shared-secret HMAC algorithms are refused)",
        quote_untrusted(alg)));
  return make_error(fmt::format("token algorithm {} is not accepted", quote_untrusted(alg)));
}

std::optional<JwsAlgorithm> algorithm_for_key(EVP_PKEY* key) {
  if (key == nullptr) return std::nullopt;
  if (EVP_PKEY_is_a(key, "ED25519")) return JwsAlgorithm::eddsa;
  if (EVP_PKEY_is_a(key, "RSA")) return JwsAlgorithm::rs256;
  if (EVP_PKEY_is_a(key, "EC") && is_p256(key)) return JwsAlgorithm::es256;
  return std::nullopt;
}

std::string describe_key_type(EVP_PKEY* key) {
  if (key == nullptr) return "no key";
  if (EVP_PKEY_is_a(key, "ED25519")) return "Ed25519";
  if (EVP_PKEY_is_a(key, "RSA")) return "RSA";
  if (EVP_PKEY_is_a(key, "EC")) return is_p256(key) ? "EC P-256" : "EC";
  return "unsupported";
}

bool verify_jws_signature(JwsAlgorithm algorithm, EVP_PKEY* key, std::string_view signing_input,
                          std::string_view signature) {
  // The key decides what it can verify; the header's claim alone never does.
  if (algorithm_for_key(key) != algorithm) return false;
  std::string der;
  if (algorithm == JwsAlgorithm::es256) {
    auto converted = es256_raw_to_der(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  } else if (algorithm == JwsAlgorithm::eddsa && signature.size() != kEd25519SignatureSize) {
    return false;
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(algorithm), nullptr, key) != 1)
    return false;
  const int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  return rc == 1;
}

Result<std::string> sign_jws(JwsAlgorithm algorithm, EVP_PKEY* key,
                             std::string_view signing_input) {
  if (algorithm_for_key(key) != algorithm)
    return make_error(
        fmt::format("a {} key cannot sign {}", describe_key_type(key), to_string(algorithm)));
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(algorithm), nullptr, key) != 1)
    return make_error("cannot initialise token signing");
  auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
  std::size_t length = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &length, input, signing_input.size()) != 1)
    return make_error("cannot sign token");
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, input,
                     signing_input.size()) != 1)
    return make_error("cannot sign token");
  signature.resize(length);
  if (algorithm == JwsAlgorithm::es256) {
    auto raw = es256_der_to_raw(signature);
    if (!raw) return make_error("cannot encode ES256 signature");
    return std::move(*raw);
  }
  return signature;
}

}  // namespace portcullis::identity
